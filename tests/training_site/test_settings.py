"""DATABASE_URL as the settings read it, each case in a fresh interpreter (settings load once)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_DATABASE = (
    "from django.conf import settings; d = settings.DATABASES['default']; "
    "print(d['ENGINE'], d['NAME'])"
)


def load_settings(module: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    environ.update(DJANGO_SETTINGS_MODULE=module, **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_DATABASE],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("module", ["training_site.settings.dev", "training_site.settings.test"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_database_url_means_the_default_sqlite_file(module, value):
    result = load_settings(module, DATABASE_URL=value)
    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == ROOT / "db.sqlite3"


def test_manage_py_check_runs_with_an_empty_database_url():
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environ["DATABASE_URL"] = ""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("database_url", [None, ""])
def test_production_requires_a_database_url(database_url):
    env = {"SECRET_KEY": "production-test-key"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    result = load_settings("training_site.settings.production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL must be set in production" in result.stderr


def test_production_accepts_a_database_url():
    result = load_settings(
        "training_site.settings.production",
        SECRET_KEY="production-test-key",
        DATABASE_URL="postgres://kb:secret@db.example.org:5432/knowledge_bridge",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "knowledge_bridge"]
