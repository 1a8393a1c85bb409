"""The Content-Security-Policy in a real browser: H5P content plays with the player's few
exceptions, our pages work without inline script (language menu, print button), and
Wagtail's admin (editor, preview panel, H5P chooser, H5P preview) works under its policy.
Chromium reports every blocked script, style, frame or connection on the console: none may be
reported, from the page or from the H5P iframes inside it."""

import re
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress

from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from tests.courses.h5p.support import fixture
from tests.courses.training.factories import (
    h5p_block,
    make_course,
    make_guides,
    make_lesson,
    quiz_block,
    text_block,
)
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSP_REPORT = re.compile(r"Content[ -]Security[ -]Policy", re.I)


def watched_page(browser, **options):
    """A new page whose CSP violations and script errors are recorded in `run`."""
    page = browser.new_page(**options)
    run = SimpleNamespace(page=page, violations=[], errors=[])
    page.on(
        "console",
        lambda message: (
            CSP_REPORT.search(message.text) and run.violations.append(f"{page.url}: {message.text}")
        ),
    )
    page.on("pageerror", lambda error: run.errors.append(str(error)))
    # Statements the players post are answered here: this test is about the policy.
    page.route(
        "**/api/xapi/statements",
        lambda route: route.fulfill(status=200, content_type="application/json", body="[]"),
    )
    return run


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*='login'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def verified_user(username, **fields):
    user = UserFactory(username=username, **fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def installed(prefix):
    return install_package(validate_package(fixture(prefix)), by=OPERATOR)


# Each fixture's content type, what shows once it runs and what to press: the content types
# that need eval (EJS in Multiple Choice) and style attributes (Accordion) among them.
PLAYS = {
    "truefalse": (".h5p-true-false-answer", ".h5p-question-check-answer"),
    "multichoice": (".h5p-answer", ".h5p-question-check-answer"),
    "accordion": (".h5p-panel-button", ".h5p-panel-button"),
    "dragtext": (".h5p-question-check-answer", ".h5p-question-check-answer"),
    "column-mc-tf-blanks": (".h5p-text-input", ".h5p-question-check-answer"),
}


@pytest.mark.urls("tests.e2e.h5p_urls")
@pytest.mark.parametrize("prefix", sorted(PLAYS))
def test_h5p_content_plays_under_the_policy(browser, live_server, prefix):
    package = installed(prefix)
    shown, press = PLAYS[prefix]
    run = watched_page(browser, viewport={"width": 360, "height": 740})
    response = run.page.goto(f"{live_server.url}/test-h5p/{package.pk}/")
    script_src = re.search(r"script-src ([^;]*)", response.headers["content-security-policy"])
    assert "'unsafe-inline'" not in script_src.group(1).split()
    frame = run.page.frame_locator(".h5p-player iframe")
    frame.locator(shown).first.wait_for(timeout=15000)
    frame.locator(press).first.click()
    run.page.wait_for_timeout(500)
    assert run.violations == []
    assert run.errors == []


def test_our_pages_work_without_inline_script(browser, live_server):
    """The language menu and the guide's print button were inline handlers; a lesson with
    H5P, a quiz and text plays for an enrolled learner."""
    guide = make_guides()[1][0]
    course = make_course(title="Em học cùng H5P")
    true_false, multichoice = installed("truefalse"), installed("multichoice")
    tf, mc = h5p_block(package=true_false), h5p_block(package=multichoice)
    lesson = make_lesson(course, blocks=[text_block(), tf, quiz_block(), mc])
    verified_user("hocsinh_csp")
    run = watched_page(browser)
    page = run.page
    page.add_init_script("window.print = function () { window.__printed = true; };")

    page.goto(f"{live_server.url}{guide.url}")
    page.click("button[data-print]")
    assert page.evaluate("window.__printed") is True

    page.goto(f"{live_server.url}/catalog/")
    assert page.get_attribute("html", "lang") == "vi"
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.url == f"{live_server.url}/catalog/"
    with page.expect_navigation():
        page.select_option("#lang-select", "vi")
    assert page.get_attribute("html", "lang") == "vi"

    log_in(page, live_server, "hocsinh_csp")
    page.goto(f"{live_server.url}{course.url}")
    page.click(f"form[action='/courses/{course.pk}/enrol/'] button")
    page.wait_for_selector("progress.progress")
    page.goto(f"{live_server.url}{lesson.url}")
    tf_frame = page.frame_locator(f"#activity-{tf['id']} .h5p-player iframe")
    mc_frame = page.frame_locator(f"#activity-{mc['id']} .h5p-player iframe")
    tf_frame.locator(".h5p-true-false-answer").first.wait_for(timeout=20000)
    mc_frame.locator(".h5p-answer").first.wait_for(timeout=20000)
    mc_frame.locator(".h5p-answer").first.click()
    mc_frame.locator(".h5p-question-check-answer").click()
    page.wait_for_timeout(500)
    assert run.violations == []
    assert run.errors == []


def test_wagtail_admin_works_under_its_policy(browser, live_server):
    package = installed("multichoice")
    lesson = make_lesson(make_course(), blocks=[text_block(), h5p_block(package=package)])
    verified_user("quantri_csp", is_superuser=True, is_staff=True)
    run = watched_page(browser, viewport={"width": 1280, "height": 900})
    page = run.page
    log_in(page, live_server, "quantri_csp")

    # Wagtail's user bar on our pages (under the site's policy) opens and runs its checks.
    page.goto(f"{live_server.url}{lesson.url}")
    page.locator("wagtail-userbar button").first.click()
    page.locator("wagtail-userbar #checker-trigger").click()
    page.wait_for_timeout(1000)

    for path in ("/admin/", "/admin/pages/", "/admin/images/", "/admin/documents/", "/admin/h5p/"):
        assert page.goto(f"{live_server.url}{path}").status == 200, path

    # The H5P preview plays the package inside the admin.
    page.goto(f"{live_server.url}/admin/h5p/inspect/{package.pk}/")
    inspect_frame = page.frame_locator(".h5p-player iframe")
    inspect_frame.locator(".h5p-answer").first.wait_for(timeout=15000)

    # The page editor: its preview panel (a SAMEORIGIN frame) plays the lesson's activity,
    # and the H5P chooser opens.
    page.goto(f"{live_server.url}/admin/pages/{lesson.pk}/edit/")
    page.click("[data-side-panel-toggle='preview']")
    preview = page.frame_locator("iframe[id*='preview']").first
    preview.frame_locator(".h5p-player iframe").locator(".h5p-answer").first.wait_for(timeout=20000)
    page.click("[data-side-panel-toggle='preview']")
    page.locator(".chooser .w-dropdown__toggle").first.click()
    page.locator(".w-dropdown__content [data-chooser-action-choose]").first.click()
    page.locator(".modal-content", has_text=package.title).wait_for(timeout=10000)
    assert run.violations == []
    assert run.errors == []
