from django.urls import path

from . import views
from .urls_catalog import urlpatterns as catalog_urlpatterns
from .urls_circulation import urlpatterns as circulation_urlpatterns

app_name = "libraries"
urlpatterns = [
    path("tham-gia/", views.join, name="join"),
    path("tham-gia/da-gui/", views.join_done, name="join_done"),
    path("thu-vien/<str:code>/", views.library_detail, name="library_detail"),
]
urlpatterns += catalog_urlpatterns
urlpatterns += circulation_urlpatterns
