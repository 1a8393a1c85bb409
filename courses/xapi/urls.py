from django.urls import path

from courses.xapi import views

urlpatterns = [
    path("api/xapi/statements", views.xapi_statements, name="xapi_statements"),
]
