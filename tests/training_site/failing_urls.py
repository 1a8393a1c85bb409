"""A URL list whose one view fails, for the error-report test (test_observability.py)."""

from django.urls import path


def failing(request):
    raise RuntimeError("the lending desk broke")


urlpatterns = [path("failing/", failing)]
