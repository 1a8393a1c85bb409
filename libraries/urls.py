from django.urls import path

from libraries.catalog.urls import urlpatterns as catalog_urlpatterns
from libraries.circulation.urls import urlpatterns as circulation_urlpatterns
from libraries.network import views

app_name = "libraries"
urlpatterns = [
    path("tham-gia/", views.join, name="join"),
    path("tham-gia/da-gui/", views.join_done, name="join_done"),
    path("thu-vien/<str:code>/", views.library_detail, name="library_detail"),
]
urlpatterns += catalog_urlpatterns
urlpatterns += circulation_urlpatterns
