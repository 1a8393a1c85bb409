"""The H5P player in a real browser: content renders, an answer posts an xAPI statement.

The xAPI endpoint belongs to the training work; here Playwright intercepts the POST the
player's script makes to /api/xapi/statements and answers it.
"""

import json
from types import SimpleNamespace

import pytest

from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from tests.courses.h5p.support import fixture

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.e2e.h5p_urls"),
]


def open_player(browser, live_server, prefix, *, offline_first=False):
    """A phone-sized page playing the fixture; records the statements posted."""
    package = install_package(validate_package(fixture(prefix)), by=OPERATOR)
    page = browser.new_page(viewport={"width": 360, "height": 740})
    run = SimpleNamespace(
        package=package, page=page, statements=[], requests=[], dropped=[], failed=[]
    )
    page.on("requestfailed", lambda request: run.failed.append(request.url))

    def capture(route):
        if offline_first and not run.dropped:
            run.dropped.append(json.loads(route.request.post_data))
            route.abort("internetdisconnected")
            return
        assert route.request.headers["x-csrftoken"]
        posted = json.loads(route.request.post_data)
        # The player sends statements as a list, a short burst per request.
        assert isinstance(posted, list)
        run.requests.append(posted)
        run.statements.extend(posted)
        route.fulfill(status=200, content_type="application/json", body="[]")

    page.route("**/api/xapi/statements", capture)
    page.goto(f"{live_server.url}/test-h5p/{package.pk}/")
    run.frame = page.frame_locator(".h5p-player iframe")
    return run


def answered(run):
    """The first 'answered' statement posted, waiting up to 15 s (retries back off 2 s)."""
    for _ in range(150):
        found = [s for s in run.statements if s["verb"]["id"].endswith("/answered")]
        if found:
            return found[0]
        run.page.wait_for_timeout(100)
    raise AssertionError(f"no 'answered' among {[s['verb']['id'] for s in run.statements]}")


def assert_assets_loaded(run):
    assert not [url for url in run.failed if "/media/" in url or "/static/" in url]


def expected_iri(live_server, package):
    return f"{live_server.url}/activities/h5p/{package.uuid}"


def test_true_false_plays_and_reports(browser, live_server):
    run = open_player(browser, live_server, "truefalse")
    run.frame.locator(".h5p-true-false-answer").first.wait_for(timeout=15000)
    assert run.frame.locator(".h5p-enable-fullscreen").count() == 1
    run.frame.locator(".h5p-true-false-answer").first.click()
    run.frame.locator(".h5p-question-check-answer").click()
    statement = answered(run)
    assert statement["object"]["id"] == expected_iri(live_server, run.package)
    assert "score" in statement["result"]
    assert_assets_loaded(run)
    run.page.close()


def test_multichoice_reports_after_a_network_failure(browser, live_server):
    run = open_player(browser, live_server, "multichoice", offline_first=True)
    run.frame.locator(".h5p-answer").first.wait_for(timeout=15000)
    run.frame.locator(".h5p-answer").first.click()
    run.frame.locator(".h5p-question-check-answer").click()
    statement = answered(run)
    assert statement["object"]["id"] == expected_iri(live_server, run.package)
    # The first POST failed (network down); its statements were kept and sent again, first.
    assert len(run.dropped) == 1
    assert run.requests[0][: len(run.dropped[0])] == run.dropped[0]
    assert_assets_loaded(run)
    run.page.close()
