"""What operators see of the running site: one JSON line per request (with a request id, its
duration and database work), SQL slower than SLOW_QUERY_MS, and optional error reporting to a
Sentry-compatible service (SENTRY_DSN). docs/OPERATIONS.md explains each field."""

import contextvars
import json
import logging
import re
import time
import tomllib
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils.functional import LazyObject, empty

request_log = logging.getLogger("kb.request")
sql_log = logging.getLogger("kb.sql")

# A request id an upstream proxy may hand us (nginx's $request_id is 32 hex digits); anything
# else is replaced, so a client cannot write into the logs through the header.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
SQL_LOGGED_CHARS = 2000
HEALTH_PATH = "/healthz"


@dataclass
class RequestStats:
    request_id: str
    queries: int = 0
    query_ms: float = 0.0


_current: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar(
    "kb_request", default=None
)


def current_request_id() -> str | None:
    stats = _current.get()
    return stats.request_id if stats else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the request id of the
    request being served, the fields a caller passed as `extra={"kb": {...}}`, and the
    traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            line["request_id"] = request_id
        line.update(getattr(record, "kb", {}))
        if record.exc_info:
            line["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def _request_id(request) -> str:
    header = getattr(settings, "REQUEST_ID_HEADER", None)
    given = request.META.get(header, "") if header else ""
    if REQUEST_ID_PATTERN.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _user_id(request) -> int | None:
    """The user's id if the request already looked them up: logging never costs a query."""
    user = getattr(request, "user", None)
    if isinstance(user, LazyObject):
        user = user._wrapped
        if user is empty:
            return None
    return user.pk if user is not None and user.is_authenticated else None


class RequestLogMiddleware:
    """First in MIDDLEWARE: gives each request an id (X-Request-ID from our proxy when
    REQUEST_ID_HEADER trusts it, else a new one), echoes it in the response, and logs one
    line to `kb.request` when the response is ready. Successful health probes are not logged:
    a load balancer asks every few seconds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        stats = RequestStats(request_id=_request_id(request))
        request.request_id = stats.request_id
        token = _current.set(stats)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = (time.perf_counter() - started) * 1000
            response[REQUEST_ID_RESPONSE_HEADER] = stats.request_id
            if not (request.path_info == HEALTH_PATH and response.status_code == 200):
                self._log(request, response, stats, duration_ms)
            return response
        finally:
            _current.reset(token)

    @staticmethod
    def _log(request, response, stats: RequestStats, duration_ms: float) -> None:
        match = getattr(request, "resolver_match", None)
        fields = {
            "request_id": stats.request_id,
            "method": request.method,
            "path": request.path,  # never the query string: searches and tokens stay out
            "route": match.route if match else None,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "user_id": _user_id(request),
            "db_queries": stats.queries,
            "db_ms": round(stats.query_ms, 1),
        }
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        request_log.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={"kb": fields},
        )


def time_queries(execute, sql, params, many, context):
    """A database execute wrapper on every connection: counts the request's queries and their
    time, and logs a query slower than SLOW_QUERY_MS (its SQL with placeholders, never its
    parameters, which may hold readers' data)."""
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        stats = _current.get()
        if stats is not None:
            stats.queries += 1
            stats.query_ms += elapsed_ms
        threshold = getattr(settings, "SLOW_QUERY_MS", 0)
        if threshold and elapsed_ms >= threshold:
            connection = context["connection"]
            sql_log.warning(
                "slow query: %.0f ms",
                elapsed_ms,
                extra={
                    "kb": {
                        "duration_ms": round(elapsed_ms, 1),
                        "database": connection.alias,
                        "many": many,
                        "sql": str(sql)[:SQL_LOGGED_CHARS],
                    }
                },
            )


def watch_connection(sender=None, connection=None, **kwargs) -> None:
    """`connection_created` receiver: every database connection carries `time_queries` once,
    outermost (first), so a `with connection.execute_wrapper(...)` block that happens to open
    the connection still removes its own wrapper, not this one, when it ends."""
    if time_queries not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, time_queries)


def site_version(root: Path) -> str:
    """The version in pyproject.toml, with the commit when `root` is a git checkout."""
    with open(root / "pyproject.toml", "rb") as file:
        version = tomllib.load(file)["project"]["version"]
    git = root / ".git"
    try:
        ref = (git / "HEAD").read_text().strip()
        if ref.startswith("ref: "):
            name = ref.removeprefix("ref: ")
            loose = git / name
            if loose.exists():
                ref = loose.read_text().strip()
            else:
                packed = (git / "packed-refs").read_text().splitlines()
                ref = next((line.split()[0] for line in packed if line.endswith(f" {name}")), "")
    except OSError:
        return version
    return f"{version}+{ref[:12]}" if re.fullmatch(r"[0-9a-f]{40}", ref) else version


def init_error_reporting(
    dsn: str, *, environment: str = "production", release: str | None = None
) -> bool:
    """Send unhandled errors (and ERROR log lines) to a Sentry-compatible service when `dsn`
    is set; nothing is loaded or sent otherwise. No personal data: no cookies, user details,
    addresses, request bodies or local variables. Returns whether reporting is on."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        environment=environment,
        release=release,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=_scrub,
    )
    # A failed request is reported once, as its exception, not again as its log line.
    ignore_logger(request_log.name)
    return True


# What an error report keeps of the request: where it went, never what it carried (query
# strings hold searches and card numbers; headers and cookies hold sessions).
REPORTED_REQUEST_FIELDS = ("url", "method")


def _scrub(event, hint):
    """Every report before it leaves: the request reduced to its address and method, the
    request id added as a tag to find the request's log line."""
    if "request" in event:
        request = event["request"]
        event["request"] = {k: request[k] for k in REPORTED_REQUEST_FIELDS if k in request}
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event
