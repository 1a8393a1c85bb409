import os

import pytest
from django.core.cache import cache
from django.db import connection


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test writes uploads into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: no test inherits another's failed logins."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _async_safety_outside_browser_tests(request):
    """Only browser tests switch off Django's async-safety check (tests/e2e/conftest.py sets
    the variable while Playwright runs); every other test must find it unset."""
    if request.node.get_closest_marker("e2e") is None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ, (
            "DJANGO_ALLOW_ASYNC_UNSAFE leaked out of the browser tests"
        )


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they are reported as skipped."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in .ci/run's second pass)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
