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


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they are reported as skipped."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in .ci/run's second pass)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
