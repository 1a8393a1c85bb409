"""Steps shared by the end-to-end tests: logging in, enrolling, waiting for the server."""

import threading
import time

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


class InFlight:
    """The live server's WSGI application, counting the requests it is serving.

    A page sends requests of its own when it closes (the reader saves the reading position on
    `pagehide` with a keepalive fetch). On SQLite the live server shares the test's in-memory
    database connection, so such a request still running when the test's database is flushed
    breaks the flush ("table is locked") and leaves rows for the next test. The browser
    fixture waits until the server is quiet before the flush."""

    def __init__(self, application):
        self.application = application
        self.lock = threading.Lock()
        self.serving = 0
        self.last_started = time.monotonic()

    def __call__(self, environ, start_response):
        with self.lock:
            self.serving += 1
            self.last_started = time.monotonic()
        try:
            result = self.application(environ, start_response)
        except BaseException:
            self.finished()
            raise
        return Counted(result, self.finished)

    def finished(self):
        with self.lock:
            self.serving -= 1

    def wait_quiet(self, quiet=0.3, timeout=15.0):
        """Return once no request has been served or started for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.serving == 0 and time.monotonic() - self.last_started >= quiet:
                    return
            time.sleep(0.05)
        raise AssertionError(f"the live server was still serving {self.serving} request(s)")


class Counted:
    """A response body that tells the counter when the server has closed it."""

    def __init__(self, result, finished):
        self.result = result
        self.finished = finished

    def __iter__(self):
        return iter(self.result)

    def close(self):
        try:
            if hasattr(self.result, "close"):
                self.result.close()
        finally:
            self.finished()


def counting(live_server):
    httpd = live_server.thread.httpd
    application = httpd.get_app()
    if not isinstance(application, InFlight):
        application = InFlight(application)
        httpd.set_app(application)
    return application
