from django.urls import path

from libraries.network import views

urlpatterns = [
    path("tham-gia/", views.join, name="join"),
    path("tham-gia/da-gui/", views.join_done, name="join_done"),
    path("thu-vien/<str:code>/", views.library_detail, name="library_detail"),
    path("loi-moi/<str:token>/", views.invitation, name="invitation"),
]
