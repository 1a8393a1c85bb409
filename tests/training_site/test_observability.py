"""training_site/observability.py: one JSON line per request (request id echoed in the response,
trusted from our proxy only; path without the query string; the user's id, never a name; the
request's queries counted exactly), SQL slower than SLOW_QUERY_MS logged without its
parameters, and error reports delivered to a Sentry-compatible server over real HTTP only when
SENTRY_DSN is set."""

import gzip
import json
import logging
import os
import re
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from training_site.observability import JsonFormatter

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class Lines(logging.Handler):
    """The JSON lines a logger writes, as production prints them."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def request_lines():
    logger = logging.getLogger("kb.request")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def sql_lines():
    logger = logging.getLogger("kb.sql")
    handler = Lines()
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_each_request_is_one_line_with_its_id_duration_and_queries(client, request_lines):
    user = UserFactory(username="nguyenvana", email="vana@example.vn")
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/accounts/profile/?q=vana@example.vn")
    assert response.status_code == 200
    (line,) = request_lines
    request_id = response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    assert line["request_id"] == request_id
    assert {k: line[k] for k in ("level", "logger", "method", "path", "route", "status")} == {
        "level": "INFO",
        "logger": "kb.request",
        "method": "GET",
        "path": "/accounts/profile/",
        "route": "accounts/profile/",
        "status": 200,
    }
    assert line["user_id"] == user.pk
    assert line["db_queries"] == len(queries.captured_queries) > 0
    assert isinstance(line["duration_ms"], float) and isinstance(line["db_ms"], float)
    # Neither the query string nor the user's names reach the log.
    text = json.dumps(line)
    assert "vana" not in text and "example.vn" not in text


def test_an_anonymous_request_logs_no_user_and_a_new_id_each_time(client, request_lines):
    first = client.get("/no-such-page/")
    second = client.get("/no-such-page/")
    assert (first.status_code, second.status_code) == (404, 404)
    assert [line["user_id"] for line in request_lines] == [None, None]
    assert [line["status"] for line in request_lines] == [404, 404]
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_request_id_is_taken_from_our_proxy_only(client, settings, request_lines):
    # Without a trusted proxy, a client's header is not believed.
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="chosen-by-client")
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    settings.REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"  # behind nginx: $request_id
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="4f1c2a9e0b7d4e55a1c3d2b1e0f9a8b7")
    assert response["X-Request-ID"] == "4f1c2a9e0b7d4e55a1c3d2b1e0f9a8b7"
    # Even from the proxy, nothing that could break a log line.
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID='x", "status": 200')
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    assert [line["request_id"] for line in request_lines][1] == "4f1c2a9e0b7d4e55a1c3d2b1e0f9a8b7"


def test_working_health_probes_are_not_logged(client, request_lines):
    assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page/").status_code == 404
    assert [line["path"] for line in request_lines] == ["/no-such-page/"]


SLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
    "SELECT count(*) FROM n"
)


def test_a_query_slower_than_the_threshold_is_logged_without_its_parameters(settings, sql_lines):
    settings.SLOW_QUERY_MS = 1
    with connection.cursor() as cursor:
        cursor.execute(SLOW, [300017])
        assert cursor.fetchone() == (300017,)
    (line,) = [line for line in sql_lines if "RECURSIVE" in line["sql"]]
    assert (line["level"], line["logger"], line["database"]) == ("WARNING", "kb.sql", "default")
    assert line["sql"] == SLOW and line["duration_ms"] >= 1
    assert "300017" not in json.dumps(line)


def test_queries_under_the_threshold_are_not_logged(settings, sql_lines):
    settings.SLOW_QUERY_MS = 600_000
    with connection.cursor() as cursor:
        cursor.execute(SLOW, [300017])
    assert sql_lines == []


def test_the_json_line_carries_an_exception(request_lines):
    try:
        raise ValueError("mauvais")
    except ValueError:
        logging.getLogger("kb.request").exception("failed")
    (line,) = request_lines
    assert line["level"] == "ERROR" and line["message"] == "failed"
    assert line["exc"].startswith("Traceback") and "ValueError: mauvais" in line["exc"]


# Error reports: a subprocess with the production settings, as gunicorn loads them.

# The request goes through the WSGI application as gunicorn calls it (Sentry hooks in there).
REPORT = """
import io, json, sys
from wsgiref.util import setup_testing_defaults
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
application = get_wsgi_application()
from django.conf import settings
environ = {
    "PATH_INFO": "/failing/",
    "QUERY_STRING": "card=TV-000123",
    "HTTP_HOST": "testserver",
    "HTTP_COOKIE": "csrftoken=secret-cookie-value",
    "HTTP_X_FORWARDED_PROTO": "https",
    "REMOTE_ADDR": "203.0.113.7",
}
setup_testing_defaults(environ)
started = {}
def start_response(status, headers, exc_info=None):
    started.update(status=int(status.split()[0]), headers=dict(headers))
with override_settings(ROOT_URLCONF="tests.training_site.failing_urls"):
    b"".join(application(environ, start_response))
import sentry_sdk
sentry_sdk.flush(timeout=10)
print(json.dumps({
    "enabled": settings.SENTRY_ENABLED,
    "status": started["status"],
    "request_id": started["headers"].get("X-Request-ID"),
    "sentry_loaded": "sentry_sdk.integrations.django" in sys.modules,
}))
"""

NOT_LOADED = """
import json, sys
import django
django.setup()
from django.conf import settings
print(json.dumps({"enabled": settings.SENTRY_ENABLED, "loaded": "sentry_sdk" in sys.modules}))
"""


def run_production(code: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    environ.update(
        DJANGO_SETTINGS_MODULE="training_site.settings.production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="testserver",
        DATABASE_URL="postgres://kb@127.0.0.1:5432/kb",
        REDIS_URL="redis://127.0.0.1:6379/0",
        REQUEST_LOG="0",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class Collector(BaseHTTPRequestHandler):
    """A Sentry-compatible ingestion endpoint on loopback: keeps every envelope it is sent."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":  # the SDK compresses with brotli when the package is installed
            import brotli

            body = brotli.decompress(body)
        self.server.received.append((self.path, body.decode()))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_without_a_dsn_no_error_reporting_is_loaded():
    assert run_production(NOT_LOADED) == {"enabled": False, "loaded": False}
    assert run_production(NOT_LOADED, SENTRY_DSN="") == {"enabled": False, "loaded": False}


def test_with_a_dsn_an_error_is_delivered_over_http_without_personal_data(collector):
    port = collector.server_address[1]
    outcome = run_production(REPORT, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42")
    assert outcome["enabled"] is True and outcome["sentry_loaded"] is True
    assert outcome["status"] == 500
    envelopes = [body for path, body in collector.received if path == "/api/42/envelope/"]
    events = [
        json.loads(line)
        for body in envelopes
        for line in body.splitlines()
        if line.startswith("{") and '"exception"' in line
    ]
    assert events, collector.received
    event = events[0]
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the lending desk broke")
    assert event["tags"]["request_id"] == outcome["request_id"]
    assert event["environment"] == "production"
    assert event["request"] == {"url": "http://testserver/failing/", "method": "GET"}
    everything = "".join(body for _path, body in collector.received)
    assert "secret-cookie-value" not in everything
    assert "TV-000123" not in everything and "203.0.113.7" not in everything
