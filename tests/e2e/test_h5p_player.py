"""The H5P player in a real browser: content renders, an answer posts an xAPI statement."""

import json

import pytest

from courses.h5p.storage import install_package
from courses.h5p.validation import validate_package
from tests.courses.h5p_support import fixture

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.e2e.h5p_urls"),
]


def open_player(browser, live_server, prefix):
    package = install_package(validate_package(fixture(prefix)))
    page = browser.new_page(viewport={"width": 360, "height": 740})
    statements = []
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))

    def capture(route):
        statements.append(json.loads(route.request.post_data))
        assert route.request.headers["x-csrftoken"]
        route.fulfill(status=200, content_type="application/json", body="[]")

    page.route("**/api/xapi/statements", capture)
    page.goto(f"{live_server.url}/test-h5p/{package.pk}/")
    frame = page.frame_locator(".h5p-player iframe")
    return package, page, frame, statements, failed


def wait_for_statement(page, statements, verb):
    for _ in range(50):
        if any(s["verb"]["id"].endswith(verb) for s in statements):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no '{verb}' statement among {[s['verb']['id'] for s in statements]}")


def expected_iri(live_server, package):
    return f"{live_server.url}/activities/h5p/{package.uuid}/b1"


def test_true_false_plays_and_reports(browser, live_server):
    package, page, frame, statements, failed = open_player(browser, live_server, "truefalse")
    frame.locator(".h5p-true-false-answer").first.wait_for(timeout=15000)
    assert frame.locator(".h5p-enable-fullscreen").count() == 1
    frame.locator(".h5p-true-false-answer").first.click()
    frame.locator(".h5p-question-check-answer").click()
    wait_for_statement(page, statements, "answered")
    answered = next(s for s in statements if s["verb"]["id"].endswith("answered"))
    assert answered["object"]["id"] == expected_iri(live_server, package)
    assert "score" in answered["result"]
    assert not [url for url in failed if "/media/" in url or "/static/" in url]
    page.close()


def test_multichoice_plays_and_reports(browser, live_server):
    package, page, frame, statements, failed = open_player(browser, live_server, "multichoice")
    frame.locator(".h5p-answer").first.wait_for(timeout=15000)
    frame.locator(".h5p-answer").first.click()
    frame.locator(".h5p-question-check-answer").click()
    wait_for_statement(page, statements, "answered")
    answered = next(s for s in statements if s["verb"]["id"].endswith("answered"))
    assert answered["object"]["id"] == expected_iri(live_server, package)
    assert not [url for url in failed if "/media/" in url or "/static/" in url]
    page.close()
