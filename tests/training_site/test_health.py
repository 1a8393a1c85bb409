"""training_site/health.py: /healthz answers 200 with every check named when the database,
the migrations, the real Redis cache, both storages and the task queue work, and 503 naming
the one that does not (a pending migration, a Redis that does not answer, a read-only media
folder, an unreachable database), with the others still shown working."""

import os
import socket
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from libraries.catalog.tasks import import_marc_file
from training_site import health

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
WORKING = {
    "database": {"ok": True},
    "migrations": {"ok": True},
    "cache": {"ok": True},
    "storage": {"ok": True},
    "private_storage": {"ok": True},
    "tasks": {"ok": True, "queued": 0, "oldest_queued_seconds": None},
}


@pytest.fixture(autouse=True)
def _fresh_migration_state():
    health.forget_migration_state()
    yield
    health.forget_migration_state()


@pytest.fixture
def production_services(redis_cache):
    """The real Redis and the database task queue, as production runs them."""
    with override_settings(TASKS=DATABASE_QUEUE):
        yield redis_cache


def closed_port() -> int:
    """A port on loopback where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def files_under(*roots) -> set[Path]:
    return {path for root in roots for path in Path(root).rglob("*") if path.is_file()}


def probe(client):
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_a_working_site_answers_200_naming_every_check(client, production_services):
    server, prefix = production_services
    before = files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": WORKING}
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    # The probe's files are gone, its cache key expires by itself.
    assert files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT) == before
    (key,) = server.scan_iter(match=f"{prefix}:*kb:healthz:*")
    assert 0 < server.ttl(key) <= 10


def test_waiting_tasks_are_counted_with_the_age_of_the_oldest(client, production_services):
    for job_id in (1, 2):
        import_marc_file.enqueue(job_id)
    first = DBTaskResult.objects.order_by("enqueued_at").first()
    DBTaskResult.objects.filter(pk=first.pk).update(enqueued_at=timezone.now() - timedelta(hours=2))
    status, body = probe(client)
    assert status == 200
    tasks = body["checks"]["tasks"]
    assert (tasks["ok"], tasks["queued"]) == (True, 2)
    assert tasks["oldest_queued_seconds"] >= 2 * 3600


def test_a_migration_not_applied_fails_the_migrations_check_only(client, production_services):
    latest = MigrationRecorder.Migration.objects.filter(app="training_site").latest("id")
    latest.delete()  # the database as it was before this migration ran
    status, body = probe(client)
    assert status == 503
    assert body == {
        "status": "failing",
        "checks": {
            **WORKING,
            "migrations": {
                "ok": False,
                "error": f"1 migration(s) not applied: training_site.{latest.name}",
            },
        },
    }


def test_the_migration_state_is_read_once_a_minute(client, production_services):
    assert probe(client)[0] == 200
    MigrationRecorder.Migration.objects.filter(app="training_site").latest("id").delete()
    assert probe(client)[0] == 200  # read a moment ago: not read again
    health.forget_migration_state()
    assert probe(client)[0] == 503


def test_a_cache_that_does_not_answer_fails_the_cache_check_only(client, production_services):
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=down):
        status, body = probe(client)
    assert status == 503
    assert body == {
        "status": "failing",
        "checks": {**WORKING, "cache": {"ok": False, "error": "ConnectionError"}},
    }


@pytest.fixture
def read_only_folder():
    """A folder nobody may write into, and the error writing there raises. Root writes through
    file modes, so as root it is a read-only file system of its own (a tmpfs mount)."""
    folder = Path(tempfile.mkdtemp(prefix="kb-read-only-"))
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder, "PermissionError (EACCES)"
        folder.chmod(0o700)
    else:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", folder], check=True)
        try:
            yield folder, "OSError (EROFS)"
        finally:
            subprocess.run(["umount", folder], check=True)
    folder.rmdir()


@pytest.mark.parametrize("check", ["storage", "private_storage"])
def test_a_storage_that_cannot_be_written_fails_its_own_check_only(
    client, production_services, read_only_folder, check
):
    folder, error = read_only_folder
    storages = {**settings.STORAGES}
    if check == "storage":
        storages["default"] = {**storages["default"], "OPTIONS": {"location": folder}}
    else:
        storages["private"] = {**storages["private"], "OPTIONS": {"location": folder}}
    with override_settings(STORAGES=storages):
        status, body = probe(client)
    assert status == 503
    assert body == {
        "status": "failing",
        "checks": {**WORKING, check: {"ok": False, "error": error}},
    }
    assert list(folder.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_fails_what_needs_it(client, production_services):
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        status, body = probe(client)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original
    assert status == 503
    refused = {"ok": False, "error": "OperationalError"}
    assert body == {
        "status": "failing",
        "checks": {**WORKING, "database": refused, "migrations": refused, "tasks": refused},
    }


def test_without_a_shared_cache_the_deploy_check_warns(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    (warning,) = health.shared_cache_check()
    assert warning.id == "training_site.W001"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"}
    }
    assert health.shared_cache_check() == []
