"""training_site/settings/production.py, scripts/prod.sh and scripts/gunicorn.conf.py: the
example environment passes `check --deploy` without a warning; Redis holds the cache, sessions
and limits; gunicorn's workers and threads follow the cores; `make prod` refuses to start
without what it needs, and with it serves the site over real HTTP (health, pages with hashed and
compressed static files, the HTTPS redirect), runs background jobs, and stops both on Ctrl-C."""

import gzip
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.test import override_settings

from libraries.catalog.tasks import import_marc_file
from libraries.models import MarcImportJob, Record
from tests.factories import LibraryFactory
from tests.fixture_files import FIXTURES
from tests.shared_cache import REDIS_URL
from tests.training_site.test_health import closed_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scripts" / "prod.env.example"
READ_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
cache = s.CACHES["default"]
print(json.dumps({
    "cache": [cache["BACKEND"], cache.get("LOCATION"), cache.get("KEY_PREFIX", "")],
    "sessions": s.SESSION_ENGINE,
    "redirect_exempt": s.SECURE_REDIRECT_EXEMPT,
    "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
    "conn_health_checks": s.DATABASES["default"]["CONN_HEALTH_CHECKS"],
    "request_id_header": s.REQUEST_ID_HEADER,
    "slow_query_ms": s.SLOW_QUERY_MS,
    "static": s.STORAGES["staticfiles"]["BACKEND"],
    "tasks": s.TASKS["default"]["BACKEND"],
}))
"""


def with_example_environment(command: list[str], **overrides: str) -> subprocess.CompletedProcess:
    """`command` in the environment scripts/prod.env.example sets, read by the shell exactly
    as scripts/prod.sh reads it, in an otherwise empty environment."""
    assignments = " ".join(f"{name}={quote_shell(value)}" for name, value in overrides.items())
    script = f'set -a; . "{EXAMPLE}"; set +a; {assignments} exec "$@"'
    return subprocess.run(
        ["bash", "-c", script, "bash", *command],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "training_site.settings.production",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def quote_shell(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def test_the_example_environment_passes_the_deploy_check_without_a_warning():
    result = with_example_environment(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr


def test_without_redis_the_deploy_check_names_the_unshared_cache():
    result = with_example_environment(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        REDIS_URL="",
    )
    assert result.returncode == 1
    assert "(training_site.W001) The cache" in result.stderr
    assert "Set REDIS_URL" in result.stderr


def test_redis_holds_the_cache_sessions_and_limits_of_every_worker():
    result = with_example_environment([sys.executable, "-c", READ_SETTINGS])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "cache": ["django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/0", "kb"],
        "sessions": "django.contrib.sessions.backends.cached_db",
        "redirect_exempt": ["^healthz$"],
        "conn_max_age": 60,
        "conn_health_checks": True,
        "request_id_header": "HTTP_X_REQUEST_ID",  # ALLAUTH_TRUSTED_PROXY_COUNT=1: nginx
        "slow_query_ms": 200,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "tasks": "django_tasks_db.backend.DatabaseBackend",
    }


def test_without_redis_sessions_stay_in_the_database():
    result = with_example_environment(
        [sys.executable, "-c", READ_SETTINGS], REDIS_URL="", ALLAUTH_TRUSTED_PROXY_COUNT="0"
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["cache"] == ["django.core.cache.backends.locmem.LocMemCache", None, ""]
    assert read["sessions"] == "django.contrib.sessions.backends.db"
    assert read["request_id_header"] is None


def gunicorn_config(**env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "WEB_CONCURRENCY"))
    }
    return subprocess.run(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "scripts/gunicorn.conf.py", "--print-config"],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def config_values(output: str, *names: str) -> dict[str, str]:
    values = dict(re.findall(r"^(\w+)\s+= (.*)$", output, flags=re.MULTILINE))
    return {name: values[name] for name in names}


def test_gunicorn_takes_its_workers_from_the_cores_and_its_settings_from_the_environment():
    result = gunicorn_config()
    assert result.returncode == 0, result.stderr
    assert config_values(result.stdout, "workers", "threads", "worker_class", "bind") == {
        "workers": str(2 * os.cpu_count() + 1),
        "threads": "2",
        "worker_class": "gthread",
        "bind": "['127.0.0.1:8000']",
    }
    given = gunicorn_config(
        GUNICORN_WORKERS="3", GUNICORN_THREADS="4", GUNICORN_BIND="unix:/tmp/kb.sock"
    )
    assert config_values(given.stdout, "workers", "threads", "bind") == {
        "workers": "3",
        "threads": "4",
        "bind": "['unix:/tmp/kb.sock']",
    }
    wrong = gunicorn_config(GUNICORN_WORKERS="many")
    assert wrong.returncode != 0
    assert "GUNICORN_WORKERS must be a whole number of at least 1, not 'many'." in wrong.stderr


def run_prod_script(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/prod.sh"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_prod_lists_what_is_missing_and_starts_nothing():
    result = run_prod_script({})
    assert result.returncode == 2
    named = [line.split()[0] for line in result.stderr.splitlines() if line.startswith("  ")]
    assert named == ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DATABASE_URL", "REDIS_URL"]
    assert result.stdout == ""
    # The example's own key, SQLite and a short key are refused by name too.
    result = run_prod_script({"ENV_FILE": str(EXAMPLE)})
    assert result.returncode == 2
    assert "SECRET_KEY  still holds the example's text: generate one" in result.stderr
    result = run_prod_script(
        {"ENV_FILE": str(EXAMPLE), "SECRET_KEY": "short", "DATABASE_URL": "sqlite:///kb.sqlite3"}
    )
    named = [line.split()[0] for line in result.stderr.splitlines() if line.startswith("  ")]
    assert (result.returncode, named) == (2, ["SECRET_KEY", "DATABASE_URL"])


# The whole stack, on the test database (PostgreSQL).


def database_url() -> str:
    d = connection.settings_dict
    credentials = quote(d["USER"] or "", safe="")
    if d["PASSWORD"]:
        credentials += ":" + quote(d["PASSWORD"], safe="")
    return f"postgres://{credentials}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def fetch(url: str, **headers: str):
    """(status, headers, body) of a GET that follows no redirect."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_for(condition, *, seconds: float, what: str, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the stack ended while waiting for {what}")
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def children(pid: int) -> dict[int, str]:
    listing = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return {int(line.split(None, 1)[0]): line.split(None, 1)[1] for line in listing.splitlines()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_make_prod_serves_the_site_runs_jobs_and_stops_on_ctrl_c(tmp_path):
    port = closed_port()
    prefix = f"kb-test-{uuid.uuid4().hex}"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://thuvien.example.vn",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "PROD_SKIP_SETUP": "1",  # installed already: the suite runs in it
    }
    log = open(tmp_path / "prod.log", "w+")  # noqa: SIM115 - read while the stack runs
    stack = subprocess.Popen(
        ["bash", "scripts/prod.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    site = f"http://127.0.0.1:{port}"
    processes = {}
    try:

        def healthy():
            try:
                return fetch(f"{site}/healthz")
            except OSError:
                return None

        status, _headers, body = wait_for(healthy, seconds=300, what="/healthz", process=stack)
        assert status == 200, body
        assert json.loads(body)["status"] == "ok"
        processes = children(stack.pid)
        assert sorted("gunicorn" in args or "db_worker" in args for args in processes.values()) == [
            True,
            True,
        ]

        # Plain HTTP is sent to HTTPS; behind the TLS proxy, pages link hashed static files
        # that WhiteNoise serves compressed.
        status, headers, _ = fetch(f"{site}/accounts/login/")
        assert (status, headers["Location"]) == (301, f"https://127.0.0.1:{port}/accounts/login/")
        status, headers, page = fetch(f"{site}/accounts/login/", **{"X-Forwarded-Proto": "https"})
        assert status == 200
        stylesheet = re.search(rb'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page).group(1)
        status, headers, css = fetch(
            site + stylesheet.decode(), **{"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}
        )
        assert (status, headers["Content-Encoding"]) == (200, "gzip")
        assert "immutable" in headers["Cache-Control"]
        assert gzip.decompress(css)

        # The task worker imports a MARC file queued as the admin's upload queues it.
        library = LibraryFactory()
        job = MarcImportJob(library=library, original_name="brkrtest.mrc", file_format="marc")
        job.file.save(
            "brkrtest.mrc",
            ContentFile((FIXTURES / "marc" / "marc4j_brkrtest_UTF8.mrc").read_bytes()),
            save=False,
        )
        job.save()
        stored = job.file.name
        with override_settings(
            TASKS={"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
        ):
            import_marc_file.enqueue(job.pk)

        def imported():
            job.refresh_from_db()
            return job.status == MarcImportJob.Status.DONE

        wait_for(imported, seconds=120, what="the MARC import", process=stack)
        assert (job.created_count, Record.objects.count()) == (8, 8)
        assert not storages["private"].exists(stored)  # deleted once imported

        # Ctrl-C: both stop, the script reports it and ends well.
        stack.send_signal(signal.SIGINT)
        assert stack.wait(timeout=120) == 0
    finally:
        if stack.poll() is None:
            stack.send_signal(signal.SIGTERM)
            stack.wait(timeout=120)
        for pid in processes:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        server = redis.Redis.from_url(REDIS_URL)
        for key in server.scan_iter(match=f"{prefix}:*"):
            server.delete(key)
    log.seek(0)
    output = log.read()
    log.close()
    assert [pid for pid in processes if alive(pid)] == []
    assert output.rstrip().endswith("Stopped.")
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"')]
    logged = [(line["path"], line["status"]) for line in lines if line["logger"] == "kb.request"]
    assert ("/accounts/login/", 301) in logged and ("/accounts/login/", 200) in logged
    assert ("/healthz", 200) not in logged
