import pytest
from django.template import Context, Template

from courses.h5p.player import activity_iri
from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from tests.courses.h5p.support import fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def package():
    return install_package(validate_package(fixture("greetingcard-minimal")), by=OPERATOR)


def test_activity_iri_is_absolute_on_our_site(rf, package):
    request = rf.get("/lessons/1/", HTTP_HOST="thuvien.example.vn", secure=True)
    assert activity_iri(request, package) == (
        f"https://thuvien.example.vn/activities/h5p/{package.uuid}"
    )


def test_activity_iri_without_request_uses_the_site_setting(settings, package):
    settings.WAGTAILADMIN_BASE_URL = "https://kb.example.vn/"
    assert activity_iri(None, package) == f"https://kb.example.vn/activities/h5p/{package.uuid}"


def test_player_tag_renders_the_container(rf, package):
    request = rf.get("/")
    html = Template(
        '{% load h5p_player %}{% h5p_player package iri="https://x.test/a/1" %}'
    ).render(Context({"package": package, "request": request}))
    assert f'data-h5p-json-path="/media/h5p/content/{package.uuid}"' in html
    assert f'data-content-json-path="/media/h5p/content/{package.uuid}/content"' in html
    assert 'data-frame-js="/static/h5p-player/frame.bundle.js"' in html
    assert 'data-frame-css="/static/h5p-player/styles/h5p.css"' in html
    assert 'data-xapi-iri="https://x.test/a/1"' in html
    assert 'src="/static/courses/h5p-player.js"' in html
    assert 'data-csrf-token="' in html and 'data-csrf-token=""' not in html


def test_player_tag_for_a_deleted_package(rf):
    html = Template("{% load h5p_player %}{% h5p_player None %}").render(
        Context({"request": rf.get("/")})
    )
    assert 'role="alert"' in html
    assert "data-h5p-player" not in html


def test_media_is_served_when_serve_media_is_on(client, package):
    response = client.get(f"/media/h5p/content/{package.uuid}/h5p.json")
    assert response.status_code == 200
    assert b"GreetingCard1" in b"".join(response.streaming_content)
