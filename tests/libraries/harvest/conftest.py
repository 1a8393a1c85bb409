"""A repository served over real HTTP from fixture files, for the harvester to read.

`repository.answer(body, **params)` answers requests whose query holds `params` (the most
specific rule wins, then the latest); several bodies for one rule are served in turn, the
last one again and again. A body is fixture bytes, or (status, bytes[, headers]), or a
callable taking the parsed query. Every request is logged in `repository.requests`.
"""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.fixture_files import FIXTURES

KOHA = FIXTURES / "oai" / "koha"
KOHA_PATH = "/cgi-bin/koha/oai.pl"


def koha(name: str) -> bytes:
    return (KOHA / name).read_bytes()


class Repository:
    def __init__(self, host: str = "127.0.0.1"):
        self.rules: list[tuple[dict, list]] = []
        self.requests: list[dict] = []
        repository = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                repository.requests.append({"path": urlsplit(self.path).path, **query})
                status, body, headers = repository.respond(query)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://{host}:{self.server.server_address[1]}{KOHA_PATH}"

    def answer(self, *bodies, **params) -> None:
        self.rules.append((params, list(bodies)))

    def respond(self, query: dict):
        matching = [
            (len(params), n, bodies)
            for n, (params, bodies) in enumerate(self.rules)
            if all(query.get(k) == v for k, v in params.items())
        ]
        if not matching:
            return 404, b"no rule", {}
        *_key, bodies = max(matching, key=lambda rule: rule[:2])  # most specific, then latest
        body = bodies.pop(0) if len(bodies) > 1 else bodies[0]
        if callable(body):
            body = body(query)
        headers = {}
        if isinstance(body, tuple):
            status, body, *rest = body
            headers = rest[0] if rest else {}
        else:
            status = 200
        return status, body, headers

    def verbs(self) -> list[str]:
        return [r.get("verb", "") for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _harvest_settings(settings):
    """Tests read repositories on this machine (127.0.0.1, allowed here only) without pauses."""
    settings.HARVEST_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    settings.HARVEST_RETRY_DELAY = 0
    settings.HARVEST_RETRIES = 2
    settings.HARVEST_TIMEOUT = (5, 10)


@pytest.fixture
def repository():
    repo = Repository()
    yield repo
    repo.close()


@pytest.fixture
def slow():
    """A body callable that answers after a pause (for time-out tests)."""

    def make(seconds: float, body: bytes):
        def answer(_query):
            time.sleep(seconds)
            return body

        return answer

    return make
