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


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, reader_token):
    # No 5xx, and every response documented and of its documented shape. (A schema-valid
    # request may still be refused: a card application's rules are the site form's.)
    case.call_and_validate(
        headers={"X-Session-Token": reader_token},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
