"""Steps a learner takes in the browser, shared by the end-to-end course tests."""

from tests.factories import PASSWORD


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
