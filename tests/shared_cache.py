"""The cache production shares between workers (CACHE_URL=redis://...), for tests that count
across workers: a fixture under a prefix of the test's own (only that prefix is deleted)."""

import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_cache():
    prefix = f"kb-test-{uuid.uuid4().hex}"
    server = redis.Redis.from_url(REDIS_URL)
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=shared):
        yield server, prefix
    for key in server.scan_iter(match=f"{prefix}:*"):
        server.delete(key)


def new_worker():
    """The next request lands on another gunicorn worker, which shares nothing but Redis:
    drop this process's cache client."""
    del caches["default"]
