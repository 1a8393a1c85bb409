"""Every endpoint, driven from the OpenAPI document by schemathesis, in-process through the
WSGI app: no 5xx, and every response matches the schema (documented status and shape)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from wagtail.models import PageViewRestriction

from tests.api.conftest import login_token

_django = get_wsgi_application()


def app(environ, start_response):
    """Django's WSGI app, called as a server would: from an address."""
    environ.setdefault("REMOTE_ADDR", "203.0.113.7")
    return _django(environ, start_response)


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def reader_token(world, client):
    """The reader's session token. Then, as Django's test client does around its requests
    (it reconnects them after each one, so this comes after the login): a request's end must
    not close the test's connection (on PostgreSQL it would, mid-transaction)."""
    token = login_token(client, world.reader.username)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HYPOTHESIS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@schema.parametrize()
@HYPOTHESIS
def test_api_conforms_to_its_schema(case, reader_token):
    # No 5xx, and every response documented and of its documented shape. (A schema-valid
    # request may still be refused: a card application's rules are the site form's.)
    case.call_and_validate(headers={"X-Session-Token": reader_token}, checks=CHECKS)


LESSON = "/api/v1/courses/{course_id}/lessons/{lesson_id}"


@schema.include(path_regex="/lessons/").parametrize()
@HYPOTHESIS
def test_real_lessons_conform_to_the_schema(case, reader_token, lessons):
    """Generated ids rarely name a lesson: the lesson with a block of each kind, a lesson asked
    under another course and a lesson behind a password are asked too, with the token and
    without, and each answer is checked against the schema."""
    case.call_and_validate(checks=CHECKS)
    PageViewRestriction.objects.get_or_create(
        page=lessons.other_course, restriction_type="password", password="bi-mat"
    )
    asked = {
        (lessons.course.pk, lessons.lesson.pk): 200,
        (lessons.course.pk, lessons.other_lesson.pk): 404,
        (lessons.other_course.pk, lessons.other_lesson.pk): 403,
    }
    operation = schema[LESSON]["GET"]
    for (course_id, lesson_id), status in asked.items():
        for headers in ({"X-Session-Token": reader_token}, {}):
            real = operation.Case(
                path_parameters={"course_id": course_id, "lesson_id": lesson_id},
                headers=headers,
            )
            assert real.call_and_validate(checks=CHECKS).status_code == status
