from libraries.urls_circulation import urlpatterns as circulation_urlpatterns

app_name = "libraries"
urlpatterns: list = []
urlpatterns += circulation_urlpatterns
