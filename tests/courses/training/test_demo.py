import io

import pytest

from courses.models import CoursePage, GuidePage, LessonPage
from courses.training import demo as demo_training
from courses.training.progress import enrol, mark_viewed
from courses.xapi.services import submit_quiz

pytestmark = pytest.mark.django_db


def test_demo_creates_three_courses_with_quizzes_and_two_guides():
    out = io.StringIO()
    demo_training.load(stdout=out)
    courses = CoursePage.objects.live().order_by("path")
    assert {c.audience for c in courses} == {"librarians", "teachers", "students"}
    assert courses.filter(title="Chuyển đổi sang thư viện điện tử").exists()
    for course in courses:
        lessons = list(course.lessons())
        assert len(lessons) >= 2
        for lesson in lessons:
            kinds = [spec.kind for spec in lesson.activity_specs()]
            assert "quiz" in kinds
            # the stored content passes the editors' validation
            lesson.full_clean()
            lesson.body.stream_block.clean(lesson.body)
    assert GuidePage.objects.live().count() == 2
    assert "pages created" in out.getvalue()


def test_demo_is_idempotent():
    demo_training.load()
    counts = (CoursePage.objects.count(), LessonPage.objects.count(), GuidePage.objects.count())
    demo_training.load()
    assert counts == (
        CoursePage.objects.count(),
        LessonPage.objects.count(),
        GuidePage.objects.count(),
    )
    assert counts == (3, 7, 2)


def test_demo_course_can_be_completed_with_its_quizzes(django_user_model):
    from courses.training.progress import grade_quiz, quiz_block_value

    demo_training.load()
    user = django_user_model.objects.create_user("hocsinh", password="x")
    course = CoursePage.objects.get(audience="students")
    enrol(user=user, course=course)
    for lesson in course.lessons():
        mark_viewed(user=user, lesson=lesson)
        for spec in lesson.activity_specs():
            value = quiz_block_value(lesson, spec.block_id)
            answers = {
                i: [c for c, choice in enumerate(q["choices"]) if choice["correct"]]
                for i, q in enumerate(value["questions"])
            }
            assert grade_quiz(value, answers)[0] == len(value["questions"])
            submit_quiz(
                user=user, lesson=lesson, block_id=spec.block_id, answers=answers, base="http://x"
            )
    assert user.certificates.get().course_title == "Em làm quen với thư viện số"


def test_h5p_folder_without_packages_keeps_native_quizzes(tmp_path):
    out = io.StringIO()
    demo_training.load(stdout=out, h5p_dir=tmp_path)
    assert f"no .h5p files in {tmp_path}" in out.getvalue()
    lesson = LessonPage.objects.get(slug=demo_training.H5P_LESSON_SLUG)
    assert [spec.kind for spec in lesson.activity_specs()] == ["quiz"]
