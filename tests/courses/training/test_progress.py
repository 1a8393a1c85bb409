import pytest
from django.urls import reverse

from courses.models import ActivityProgress, Certificate, Enrollment, LessonProgress
from courses.training.progress import (
    ProgressError,
    enrol,
    learning_summary,
    mark_viewed,
)
from courses.xapi.services import record_statement, submit_quiz
from libraries.models import Role
from tests.courses.training.factories import (
    BASE,
    activity_iri,
    h5p_block,
    make_course,
    make_lesson,
    quiz_block,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vietnamese")]


ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
ALL_RIGHT = {0: [1], 1: [0, 2]}
HALF_RIGHT = {0: [1], 1: [0]}


def h5p_result(user, lesson, block_id, raw, maximum=10, completion=True):
    return record_statement(
        user=user,
        statement={
            "verb": {"id": ANSWERED},
            "object": {"id": activity_iri(lesson, block_id)},
            "result": {"score": {"min": 0, "max": maximum, "raw": raw}, "completion": completion},
        },
        base=BASE,
    )


def lesson_progress(user, lesson):
    return LessonProgress.objects.get(user=user, lesson=lesson)


def test_enrol_is_idempotent_and_records_the_library():
    course = make_course()
    membership = MembershipFactory(role=Role.STUDENT)
    first = enrol(user=membership.user, course=course)
    second = enrol(user=membership.user, course=course)
    assert first.pk == second.pk
    assert first.library == membership.library
    assert Enrollment.objects.count() == 1


def test_teacher_may_enrol_a_student_in_a_closed_course():
    course = make_course(self_enrolment=False)
    student, teacher = UserFactory(), UserFactory()
    with pytest.raises(
        ProgressError, match="Khoá học này không cho tự ghi danh. Hãy hỏi giáo viên của bạn."
    ):
        enrol(user=student, course=course)
    enrollment = enrol(user=student, course=course, by=teacher)
    assert enrollment.enrolled_by == teacher


def test_unpublished_course_refuses_enrolment():
    course = make_course()
    course.unpublish()
    with pytest.raises(ProgressError, match="Khoá học này chưa được xuất bản."):
        enrol(user=UserFactory(), course=course)


def test_lesson_needs_view_and_each_required_activity():
    course = make_course()
    h5p, quiz, optional = h5p_block(), quiz_block(), quiz_block(required=False)
    lesson = make_lesson(course, blocks=[h5p, quiz, optional])
    user = UserFactory()
    enrol(user=user, course=course)

    h5p_result(user, lesson, h5p["id"], raw=2)  # completion counts, no pass mark
    submit_quiz(user=user, lesson=lesson, block_id=quiz["id"], answers=HALF_RIGHT, base=BASE)
    progress = lesson_progress(user, lesson)
    assert progress.attempted and not progress.viewed and not progress.completed

    mark_viewed(user=user, lesson=lesson)
    progress = lesson_progress(user, lesson)
    assert progress.completed
    assert progress.attempts == 2
    assert progress.best_score == round((0.2 + 0.5) / 2, 4)


def test_unfinished_h5p_activity_keeps_the_lesson_open():
    course = make_course()
    h5p = h5p_block()
    lesson = make_lesson(course, blocks=[h5p])
    user = UserFactory()
    enrol(user=user, course=course)
    mark_viewed(user=user, lesson=lesson)
    record_statement(
        user=user,
        statement={
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"id": activity_iri(lesson, h5p["id"])},
        },
        base=BASE,
    )
    h5p_result(user, lesson, h5p["id"], raw=5, completion=False)
    assert not lesson_progress(user, lesson).completed
    assert ActivityProgress.objects.get().completed is False


def test_pass_mark_must_be_reached_and_best_score_is_kept():
    course = make_course()
    h5p = h5p_block(pass_mark=80)
    lesson = make_lesson(course, blocks=[h5p])
    make_lesson(course, title="Bài 2")
    user = UserFactory()
    enrol(user=user, course=course)
    mark_viewed(user=user, lesson=lesson)

    h5p_result(user, lesson, h5p["id"], raw=7)
    assert not lesson_progress(user, lesson).completed
    h5p_result(user, lesson, h5p["id"], raw=8)
    progress = lesson_progress(user, lesson)
    assert progress.completed and progress.passed
    h5p_result(user, lesson, h5p["id"], raw=1)
    activity = ActivityProgress.objects.get()
    assert (activity.best_score, activity.last_score, activity.attempts) == (0.8, 0.1, 3)
    assert lesson_progress(user, lesson).completed
    enrollment = Enrollment.objects.get()
    assert (enrollment.lessons_completed, enrollment.lessons_total) == (1, 2)
    assert enrollment.completed_at is None


def test_quiz_is_graded_on_the_server():
    course = make_course()
    quiz = quiz_block(pass_mark=100)
    lesson = make_lesson(course, blocks=[quiz])
    user = UserFactory()
    enrol(user=user, course=course)
    args = {"user": user, "lesson": lesson, "block_id": quiz["id"], "base": BASE}

    result = submit_quiz(answers={0: [0, 1], 1: [0, 2]}, **args)  # two picks on a single
    assert (result.correct, result.total, result.passed) == (1, 2, False)
    assert result.questions == [False, True]
    result = submit_quiz(answers={"0": ["1"], "1": ["0", "2"]}, **args)
    assert (result.correct, result.score, result.passed) == (2, 1.0, True)
    result = submit_quiz(answers={}, **args)
    assert result.correct == 0
    activity = ActivityProgress.objects.get()
    assert (activity.attempts, activity.best_score, activity.passed) == (3, 1.0, True)
    assert activity.last_answers == {"0": [], "1": []}


def test_quiz_needs_enrolment_and_an_existing_block():
    course = make_course()
    quiz = quiz_block()
    lesson = make_lesson(course, blocks=[quiz])
    user = UserFactory()
    with pytest.raises(ProgressError, match="Hãy ghi danh vào khoá học để lưu câu trả lời."):
        submit_quiz(user=user, lesson=lesson, block_id=quiz["id"], answers=ALL_RIGHT, base=BASE)
    enrol(user=user, course=course)
    with pytest.raises(ProgressError, match="Bài kiểm tra này không còn nữa. Hãy tải lại bài học."):
        submit_quiz(user=user, lesson=lesson, block_id="nope", answers=ALL_RIGHT, base=BASE)
    assert not ActivityProgress.objects.exists()


def test_course_completes_when_every_published_lesson_does_and_certificate_follows():
    course = make_course(title="Khoá học đầy đủ")
    quiz = quiz_block(pass_mark=50)
    first = make_lesson(course, blocks=[quiz])
    second = make_lesson(course, title="Bài 2")
    draft = make_lesson(course, title="Bản nháp")
    draft.unpublish()
    user = UserFactory()
    enrol(user=user, course=course)

    mark_viewed(user=user, lesson=second)
    mark_viewed(user=user, lesson=first)
    assert Enrollment.objects.get().completed_at is None
    assert not Certificate.objects.exists()
    submit_quiz(user=user, lesson=first, block_id=quiz["id"], answers=ALL_RIGHT, base=BASE)
    enrollment = Enrollment.objects.get()
    assert enrollment.completed_at is not None
    assert (enrollment.lessons_completed, enrollment.lessons_total, enrollment.percent) == (
        2,
        2,
        100,
    )
    certificate = Certificate.objects.get()
    assert (certificate.user, certificate.course_title) == (user, "Khoá học đầy đủ")
    # More answers after completion issue nothing new.
    submit_quiz(user=user, lesson=first, block_id=quiz["id"], answers=ALL_RIGHT, base=BASE)
    assert Certificate.objects.count() == 1


def test_course_without_certificates_issues_none():
    course = make_course(certificate_enabled=False)
    lesson = make_lesson(course)
    user = UserFactory()
    enrol(user=user, course=course)
    mark_viewed(user=user, lesson=lesson)
    assert Enrollment.objects.get().completed_at is not None
    assert not Certificate.objects.exists()


def test_mark_viewed_ignores_learners_who_are_not_enrolled():
    lesson = make_lesson(make_course())
    assert mark_viewed(user=UserFactory(), lesson=lesson) is None
    assert not LessonProgress.objects.exists()


def test_learning_summary_resumes_at_the_last_lesson_opened():
    course = make_course()
    make_lesson(course, title="Bài 1", blocks=[quiz_block()])
    second = make_lesson(course, title="Bài 2", blocks=[quiz_block()])
    user = UserFactory()
    enrol(user=user, course=course)
    mark_viewed(user=user, lesson=second)
    [summary] = learning_summary(user)
    assert summary.resume_lesson.pk == second.pk
    assert summary.enrollment.percent == 0


def test_quiz_form_posts_and_shows_the_verdicts(client):
    course = make_course()
    quiz = quiz_block(pass_mark=100)
    lesson = make_lesson(course, blocks=[quiz])
    user = UserFactory()
    enrol(user=user, course=course)
    client.force_login(user)
    url = reverse("courses:submit_quiz", args=[lesson.pk, quiz["id"]])
    response = client.post(url, {"q-0": "1", "q-1": ["0"]})
    assert response.status_code == 302
    assert response["Location"] == f"{lesson.url}#quiz-{quiz['id']}"
    html = client.get(lesson.url).content.decode()
    assert "Bạn trả lời đúng 1 trên 2 câu hỏi. Chưa đạt: hãy thử lại." in html
    assert html.count('class="verdict ok"') == 1
    assert html.count('class="verdict wrong"') == 1
    assert "Hà Nội là thủ đô." in html


def test_activity_iri_redirects_to_its_lesson(client):
    course = make_course()
    quiz = quiz_block()
    lesson = make_lesson(course, blocks=[quiz])
    response = client.get(f"/courses/activity/{lesson.pk}/{quiz['id']}")
    assert response.status_code == 302
    assert response["Location"] == f"{lesson.url}#quiz-{quiz['id']}"
    assert client.get(f"/courses/activity/{lesson.pk}/unknown").status_code == 404
