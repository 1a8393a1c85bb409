from django.urls import path

from libraries.catalog import oai
from libraries.catalog import views as views_catalog

urlpatterns = [
    path("catalog/", views_catalog.catalog_search, name="catalog_search"),
    path("catalog/record/<int:pk>/", views_catalog.record_detail, name="record_detail"),
    path("oai/", oai.endpoint, name="oai"),
]
