import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from tests.shared_cache import redis_cache  # noqa: F401  (the shared-cache fixture)


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


@pytest.fixture
def english(client):
    """Messages are asserted in English, the source language (Vietnamese is the default): for
    the code under test by activation, for the test client by its language cookie. Opt in with
    `pytest.mark.usefixtures("english")`."""
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def english_site(english, settings):
    """`english`, and English as the site's default language too: e-mails are written in it."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def vietnamese():
    """Messages are asserted in Vietnamese, whatever another test left activated."""
    with translation.override("vi"):
        yield


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
