from django.urls import path

from courses.xapi import views

urlpatterns = [
    path("api/xapi/statements", views.xapi_statements, name="xapi_statements"),
    path(
        "courses/lessons/<int:lesson_id>/quiz/<str:block_id>/",
        views.submit_quiz_view,
        name="submit_quiz",
    ),
]
