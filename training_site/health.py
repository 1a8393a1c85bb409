"""/healthz for load balancers and monitoring: 200 when the database, every migration, the
cache, both file storages and the task queue are usable, else 503; a JSON body names each
check. No personal data, no login. Cheap enough to ask every few seconds: one query, a cache
set and get, a tiny file written and deleted in each storage, one query on the task queue; the
migration state (the costly part) is read at most once a minute per process."""

import errno
import logging
import os
import threading
import time
import uuid

from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("kb.health")

MIGRATION_STATE_SECONDS = 60
PENDING_NAMES_SHOWN = 5
# Caches every process of the site shares (the login limits, form throttles and sessions).
SHARED_CACHES = {
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
    "django.core.cache.backends.db.DatabaseCache",
}


class Unhealthy(Exception):
    """A check's own finding, shown as it is."""


def _describe(error: Exception) -> str:
    """The kind of failure without its text: messages of drivers name hosts, users, paths."""
    if isinstance(error, OSError) and error.errno in errno.errorcode:
        return f"{type(error).__name__} ({errno.errorcode[error.errno]})"
    return type(error).__name__


def check_database() -> dict:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise Unhealthy("SELECT 1 did not answer 1")
    return {}


_migration_state = {"read_at": None, "pending": None}
_migration_lock = threading.Lock()


def pending_migrations() -> list[str]:
    """Migrations of the code not applied to the database, read at most once a minute."""
    with _migration_lock:
        read_at = _migration_state["read_at"]
        if read_at is not None and time.monotonic() - read_at < MIGRATION_STATE_SECONDS:
            return _migration_state["pending"]
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    with _migration_lock:
        _migration_state.update(read_at=time.monotonic(), pending=pending)
    return pending


def forget_migration_state() -> None:
    """Read the migration state again on the next probe (after `migrate`, and in tests)."""
    with _migration_lock:
        _migration_state.update(read_at=None, pending=None)


def check_migrations() -> dict:
    pending = pending_migrations()
    if pending:
        shown = ", ".join(pending[:PENDING_NAMES_SHOWN])
        more = len(pending) - PENDING_NAMES_SHOWN
        raise Unhealthy(
            f"{len(pending)} migration(s) not applied: {shown}"
            + (f" and {more} more" if more > 0 else "")
        )
    return {}


def check_cache() -> dict:
    cache = caches["default"]
    key = f"kb:healthz:{os.getpid()}:{threading.get_ident()}"
    token = uuid.uuid4().hex
    cache.set(key, token, timeout=10)
    if cache.get(key) != token:
        raise Unhealthy("a value set in the cache was not read back")
    return {}


def _check_storage(alias: str) -> dict:
    storage = storages[alias]
    name = storage.save(f".healthz-{uuid.uuid4().hex}", ContentFile(b"ok"))
    storage.delete(name)
    return {}


def check_storage() -> dict:
    return _check_storage("default")


def check_private_storage() -> dict:
    return _check_storage("private")


def check_tasks() -> dict:
    """The queue the background worker reads: how many tasks wait and since when."""
    backend = task_backends["default"]
    if not isinstance(backend, DatabaseBackend):
        return {"backend": type(backend).__name__}
    waiting = (
        DBTaskResult.objects.ready()
        .filter(backend_name=backend.alias)
        .aggregate(count=Count("id"), oldest=Min("enqueued_at"))
    )
    oldest = waiting["oldest"]
    return {
        "queued": waiting["count"],
        "oldest_queued_seconds": (
            int((timezone.now() - oldest).total_seconds()) if oldest is not None else None
        ),
    }


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "storage": check_storage,
    "private_storage": check_private_storage,
    "tasks": check_tasks,
}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = {"ok": True, **check()}
        except Unhealthy as finding:
            results[name] = {"ok": False, "error": str(finding)}
        except Exception as error:  # noqa: BLE001 - every failure is a finding to report
            logger.warning("health check %s failed", name, exc_info=True)
            results[name] = {"ok": False, "error": _describe(error)}
    return results


@never_cache
def healthz(request):
    results = run_checks()
    healthy = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": results},
        status=200 if healthy else 503,
    )


def shared_cache_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`check --deploy`: with a cache of one process, every gunicorn worker keeps its own login
    and form limits (several times the allowed tries) and its own copy of sessions."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in SHARED_CACHES:
        return []
    return [
        checks.Warning(
            f"The cache ({backend}) is not shared by the site's processes: rate limits and "
            "sessions would be counted and kept per process.",
            hint="Set REDIS_URL, e.g. redis://127.0.0.1:6379/0 (docs/OPERATIONS.md).",
            id="training_site.W001",
        )
    ]
