"""Browser tests switch off Django's async-safety check while Playwright runs; no other test
may inherit that. tests/conftest.py checks the variable before every non-browser test (so
any test after the browser tests in a session proves they restored it); these two say it
outright, and show the check it guards is live."""

import asyncio
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation


def test_async_unsafe_is_not_allowed_in_a_normal_test():
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ


@pytest.mark.django_db
def test_orm_refuses_to_run_inside_an_event_loop():
    async def count_users():
        return get_user_model().objects.count()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(count_users())
