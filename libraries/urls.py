from libraries.urls_catalog import urlpatterns as catalog_urlpatterns

app_name = "libraries"
urlpatterns: list = []
urlpatterns += catalog_urlpatterns
