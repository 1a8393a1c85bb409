"""The API's URLs: /api/v1/ (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""

from django.urls import path

from api.v1 import api, with_accept_language

_patterns, _app, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = with_accept_language(_pattern.callback)

urlpatterns = [path("api/v1/", (_patterns, _app, _namespace))]
