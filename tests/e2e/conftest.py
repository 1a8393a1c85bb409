"""The one Chromium every browser test shares.

Playwright's sync API keeps an asyncio loop running in the test thread for as long as it is
started, and Django refuses ORM calls while a loop runs unless DJANGO_ALLOW_ASYNC_UNSAFE is
set. So the variable is set exactly while Playwright runs: from the first browser test of
this package to the last (package scope: one launch per test process), and restored before
any other test. tests/conftest.py checks that no other test sees it.
"""

import os

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.steps import counting

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="package")
def chromium():
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            del os.environ[ASYNC_UNSAFE]
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def browser(chromium, request):
    """The shared browser for one test: the contexts (and pages) it opens are closed after it,
    so no cookie or localStorage reaches the next test, and the live server has answered the
    last request they sent before the test's database is flushed."""
    assert request.node.get_closest_marker("e2e"), (
        f"{request.node.nodeid} drives Chromium: mark it with pytest.mark.e2e"
    )
    server = None
    if "live_server" in request.fixturenames:
        server = counting(request.getfixturevalue("live_server"))
    before = set(chromium.contexts)
    yield chromium
    for context in chromium.contexts:
        if context not in before:
            context.close()
    if server is not None:
        server.wait_quiet()
