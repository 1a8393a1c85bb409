"""A student enrols, answers a native quiz, completes the course and downloads the certificate."""

import pytest
from allauth.account.models import EmailAddress

from tests.courses.training.factories import make_course, make_lesson, quiz_block, text_block
from tests.e2e.steps import log_in_and_enrol
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_student_completes_course_and_downloads_certificate(live_server, browser, tmp_path):
    course = make_course(title="Em làm quen với thư viện số")
    quiz = quiz_block(pass_mark=100)
    lesson = make_lesson(course, title="Tra cứu sách", blocks=[text_block(), quiz])
    student = UserFactory(username="hocsinh1", display_name="Trần Minh Đức")
    EmailAddress.objects.create(user=student, email=student.email, verified=True, primary=True)

    page = browser.new_page(accept_downloads=True)
    try:
        log_in_and_enrol(page, live_server, "hocsinh1", course)

        page.goto(f"{live_server.url}{lesson.url}")
        block = quiz["id"]
        page.check(f"#choice-{block}-q-0-0")  # wrong answer first
        page.check(f"#choice-{block}-q-1-0")
        page.check(f"#choice-{block}-q-1-2")
        page.click(f"#quiz-{block} button[type=submit]")
        page.wait_for_selector(f"#quiz-{block} .verdict.wrong")
        assert page.locator(f"#quiz-{block} .verdict.ok").count() == 1

        page.check(f"#choice-{block}-q-0-1")
        page.click(f"#quiz-{block} button[type=submit]")
        page.wait_for_selector(".lesson-status .badge.ok")
        assert page.locator(f"#quiz-{block} .verdict.ok").count() == 2

        page.goto(f"{live_server.url}{course.url}")
        with page.expect_download() as download_info:
            page.click("a[href$='.pdf']")
        download = download_info.value
        target = tmp_path / "certificate.pdf"
        download.save_as(target)
        assert target.read_bytes().startswith(b"%PDF-")
        code = student.certificates.get().code
        assert download.suggested_filename == f"certificate-{code}.pdf"

        page.goto(f"{live_server.url}/certificates/verify/{code}/")
        assert page.locator(".message.success").inner_text().count("Trần Minh Đức") == 1
    finally:
        page.close()
