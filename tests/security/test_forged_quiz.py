"""A learner cannot pass a native quiz by posting an xAPI statement: quizzes are graded here."""

import json

import pytest
from django.urls import reverse

from courses.models import ActivityProgress, Certificate, LessonProgress, XAPIStatement
from courses.training.progress import enrol, mark_viewed
from tests.courses.training.factories import activity_iri, make_course, make_lesson, quiz_block
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALL_RIGHT = {"q-0": ["1"], "q-1": ["0", "2"]}  # the factory quiz's correct choices


@pytest.fixture
def quiz_lesson():
    course = make_course(certificate_enabled=True)
    quiz = quiz_block(pass_mark=80)
    lesson = make_lesson(course, blocks=[quiz])
    student = UserFactory()
    enrol(user=student, course=course)
    mark_viewed(user=student, lesson=lesson)
    return course, lesson, quiz["id"], student


def forged_pass(lesson, block_id):
    return {
        "actor": {"objectType": "Agent", "mbox": "mailto:student@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}},
        "object": {"id": activity_iri(lesson, block_id), "objectType": "Activity"},
        "result": {"score": {"scaled": 1.0}, "completion": True, "success": True},
    }


def state(student, lesson):
    return (
        XAPIStatement.objects.count(),
        list(ActivityProgress.objects.filter(user=student).values_list("completed", "passed")),
        list(
            LessonProgress.objects.filter(user=student, lesson=lesson).values_list(
                "completed_at", "passed", "attempts"
            )
        ),
        Certificate.objects.filter(user=student).count(),
    )


def test_a_passed_statement_for_a_quiz_is_refused_and_changes_nothing(client, quiz_lesson):
    course, lesson, block_id, student = quiz_lesson
    client.force_login(student)
    before = state(student, lesson)
    response = client.post(
        reverse("courses:xapi_statements"),
        json.dumps(forged_pass(lesson, block_id)),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "this quiz is graded by the site: answer it on the lesson page"
    }
    assert state(student, lesson) == before
    assert before[3] == 0


def test_the_same_quiz_answered_on_the_lesson_page_passes_and_certifies(client, quiz_lesson):
    course, lesson, block_id, student = quiz_lesson
    client.force_login(student)
    response = client.post(reverse("courses:submit_quiz", args=[lesson.pk, block_id]), ALL_RIGHT)
    assert response.status_code == 302
    row = ActivityProgress.objects.get(user=student, lesson=lesson, block_id=block_id)
    assert (row.completed, row.passed, row.best_score) == (True, True, 1.0)
    assert Certificate.objects.filter(user=student, course=course).count() == 1
    # One statement for the quiz, one per question (for the class report's wrong questions).
    assert XAPIStatement.objects.get(sub_content_id="").verb == (
        "http://adlnet.gov/expapi/verbs/answered"
    )
