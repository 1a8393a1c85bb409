"""Steps shared by the end-to-end tests: logging in, enrolling."""

from django.conf import settings
from django.test import Client

from tests.factories import PASSWORD


def page_as(browser, live_server, user=None, *, viewport=(1280, 900), language=None):
    """A new page, logged in as `user` when given (a session cookie made by the test client),
    in `language` when given, else the site's default."""
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    host = live_server.url.split("//")[1].split(":")[0]
    cookies = []
    if user is not None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session})
    if language is not None:
        cookies.append({"name": "django_language", "value": language})
    if cookies:
        context.add_cookies([dict(c, domain=host, path="/") for c in cookies])
    return context.new_page()


def log_in_and_enrol(page, live_server, username, course):
    """Log in through the real form (the factories' password), then enrol on `course` from its
    page and wait for the progress bar."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*='login'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}{course.url}")
    page.click(f"form[action='/courses/{course.pk}/enrol/'] button")
    page.wait_for_selector("progress.progress")
