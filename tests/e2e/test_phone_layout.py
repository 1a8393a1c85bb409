"""The public pages on a 360-px-wide phone, in a real browser: no sideways scrolling,
every form field labelled, and the keyboard reaches the content first."""

import pytest

from libraries.network.demo import ensure_home_page, load_libraries, load_network_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


PAGES = [
    "/",
    "/mang-luoi/",
    "/tham-gia/",
    "/thu-vien/HBT/",
    "/accounts/login/",
    "/accounts/signup/",
]


@pytest.fixture
def phone(browser, live_server):
    ensure_home_page()
    load_libraries()
    load_network_page()
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    yield context.new_page(), live_server.url


def test_public_pages_fit_a_360px_phone(phone):
    page, base = phone
    for path in PAGES:
        page.goto(base + path)
        assert page.evaluate("document.documentElement.lang") == "vi", path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide"
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('main input, main select, main textarea')]
                .filter(el => el.type !== 'hidden' && !el.closest('[aria-hidden=true]'))
                .filter(el => !(el.id && document.querySelector(`label[for="${el.id}"]`)))
                .map(el => el.name)"""
        )
        assert unlabelled == [], f"{path}: {unlabelled}"


def test_keyboard_reaches_the_join_form(phone):
    page, base = phone
    page.goto(base + "/tham-gia/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "school_name"
