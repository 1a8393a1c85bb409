"""A student plays real H5P activities in a lesson: statements stored, lesson complete,
certificate downloadable. The whole path, in Debian's Chromium against the live server."""

import pytest
from allauth.account.models import EmailAddress

from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from courses.models import Certificate, LessonProgress, XAPIStatement
from courses.training.activities import activity_iri
from tests.courses.h5p.support import fixture
from tests.courses.training.factories import h5p_block, make_course, make_lesson
from tests.e2e.steps import log_in_and_enrol
from tests.factories import LibraryFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_student_answers_h5p_activities_and_gets_the_certificate(live_server, browser, tmp_path):
    true_false = install_package(
        validate_package(fixture("truefalse")), title="Đúng hay sai", by=OPERATOR
    )
    multichoice = install_package(
        validate_package(fixture("multichoice")), title="Chọn màu", by=OPERATOR
    )
    course = make_course(title="Em học cùng H5P")
    tf_block = h5p_block(package=true_false)
    mc_block = h5p_block(package=multichoice)
    lesson = make_lesson(course, title="Hoạt động tương tác", blocks=[tf_block, mc_block])
    school = LibraryFactory(code="THCSX", name="Thư viện THCS X")
    student = UserFactory(username="hocsinh_h5p", display_name="Lê Thị Ánh")
    MembershipFactory(user=student, library=school, role="student")
    EmailAddress.objects.create(user=student, email=student.email, verified=True, primary=True)

    page = browser.new_page(viewport={"width": 360, "height": 800})
    try:
        log_in_and_enrol(page, live_server, "hocsinh_h5p", course)

        page.goto(f"{live_server.url}{lesson.url}")
        tf_frame = page.frame_locator(f"#activity-{tf_block['id']} .h5p-player iframe")
        mc_frame = page.frame_locator(f"#activity-{mc_block['id']} .h5p-player iframe")

        # True/False: the fixture's right answer is "False".
        tf_frame.locator(".h5p-true-false-answer", has_text="False").wait_for(timeout=20000)
        tf_frame.locator(".h5p-true-false-answer", has_text="False").click()
        tf_frame.locator(".h5p-question-check-answer").click()

        # Multiple choice: "Very dark purple" is the one right answer.
        mc_frame.locator(".h5p-answer", has_text="Very dark purple").wait_for(timeout=20000)
        mc_frame.locator(".h5p-answer", has_text="Very dark purple").click()
        mc_frame.locator(".h5p-question-check-answer").click()

        tf_iri = activity_iri(live_server.url, lesson, tf_block["id"])
        mc_iri = activity_iri(live_server.url, lesson, mc_block["id"])
        page.wait_for_function(
            "() => window.KnowledgeBridgeH5P && window.KnowledgeBridgeH5P.queue.length === 0",
            timeout=20000,
        )
        for _ in range(40):
            stored = set(
                XAPIStatement.objects.filter(user=student).values_list("object_id", flat=True)
            )
            if {tf_iri, mc_iri} <= stored:
                break
            page.wait_for_timeout(250)
        assert {tf_iri, mc_iri} <= stored
        answered = XAPIStatement.objects.filter(
            user=student, verb="http://adlnet.gov/expapi/verbs/answered"
        )
        assert {s.object_id: s.success for s in answered} == {tf_iri: True, mc_iri: True}

        progress = LessonProgress.objects.get(user=student, lesson=lesson)
        assert progress.viewed_at is not None
        assert progress.completed_at is not None

        certificate = Certificate.objects.get(user=student, course=course)
        assert certificate.learner_name == "Lê Thị Ánh"
        assert certificate.library_name == "Thư viện THCS X"

        page.goto(f"{live_server.url}{course.url}")
        with page.expect_download() as download_info:
            page.click("a[href$='.pdf']")
        target = tmp_path / "certificate.pdf"
        download_info.value.save_as(target)
        assert target.read_bytes().startswith(b"%PDF-")
    finally:
        page.close()
