"""Test-only URLs: a page that renders the H5P player include for one package."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import include, path

from courses.models import H5PPackage

PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% load h5p_player %}{% block content %}'
    '<h1>{{ package.title }}</h1>{% h5p_player package block_id="b1" %}{% endblock %}'
)


def player_page(request, pk):
    package = get_object_or_404(H5PPackage, pk=pk)
    return HttpResponse(PAGE.render({"package": package}, request))


urlpatterns = [
    path("test-h5p/<int:pk>/", player_page),
    path("", include("training_site.urls")),
]
