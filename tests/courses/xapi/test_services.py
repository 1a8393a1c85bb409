"""Native quizzes recorded like H5P (courses/xapi/services.py: submit_quiz): the time spent,
bounded by the server, and one statement per question for the class report."""

import datetime
import json
import math
import uuid
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import ActivityProgress, LessonProgress, XAPIStatement
from courses.training.progress import enrol, quiz_block_value
from courses.xapi.services import (
    QUIZ_TIME_NOT_BELIEVED,
    question_ids,
    quiz_seconds,
    seconds_since,
    submit_quiz,
)
from tests.courses.training.factories import (
    BASE,
    make_course,
    make_lesson,
    question,
    quiz_block,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 10, 5, 8, 30, tzinfo=datetime.UTC)
ALL_RIGHT = {0: [1], 1: [0, 2]}
SECOND_WRONG = {0: [1], 1: [0]}


@pytest.fixture
def quiz_lesson():
    course = make_course()
    block = quiz_block(pass_mark=100)
    lesson = make_lesson(course, blocks=[block])
    user = UserFactory()
    enrol(user=user, course=course)
    return lesson, block["id"], user


def test_time_bounds_of_one_try():
    # Two questions: at most max(10 minutes, 2 x 5 minutes) = 600 s.
    assert quiz_seconds(95.4, questions=2) == 95
    assert quiz_seconds(0, questions=2) == 0
    assert quiz_seconds(601, questions=2) == 600  # a tab left open counts as the allowance
    assert quiz_seconds(3 * 3600, questions=2) == 600
    assert quiz_seconds(3 * 3600, questions=4) == 1200
    assert quiz_seconds(QUIZ_TIME_NOT_BELIEVED, questions=2) == 600
    # Not believed at all: nothing is recorded.
    for absurd in (
        -1,
        -0.5,
        QUIZ_TIME_NOT_BELIEVED + 1,
        1e12,
        math.inf,
        math.nan,
        None,
        True,
        "ten",
    ):
        assert quiz_seconds(absurd, questions=2) is None


def test_seconds_since_the_page_was_served():
    start = NOW.timestamp()
    assert seconds_since(str(int(start) - 95), now=NOW) == 95
    assert seconds_since(f" {start - 12.5} ", now=NOW) == 12.5
    assert seconds_since(str(int(start) + 60), now=NOW) == -60  # bounded later: not recorded
    for junk in (None, "", "hôm qua", "nan", "inf", "1e999", ["1"]):
        assert seconds_since(junk, now=NOW) is None


def statements(user):
    return list(XAPIStatement.objects.filter(user=user).order_by("sub_content_id"))


def test_a_try_records_its_time_and_each_question(quiz_lesson):
    lesson, block_id, user = quiz_lesson
    result = submit_quiz(
        user=user, lesson=lesson, block_id=block_id, answers=SECOND_WRONG, base=BASE, seconds=80
    )
    assert (result.correct, result.total, result.passed) == (1, 2, False)
    whole, first, second = statements(user)
    assert whole.sub_content_id == "" and whole.pk == result.statement.pk
    assert whole.raw["result"]["duration"] == "PT80S"
    assert (whole.success, whole.score_scaled) == (False, 0.5)
    iri = f"{BASE}/courses/activity/{lesson.pk}/{block_id}"
    assert [(s.object_id, s.sub_content_id, s.success) for s in (first, second)] == [
        (f"{iri}?subContentId=q1", "q1", True),
        (f"{iri}?subContentId=q2", "q2", False),
    ]
    assert [s.raw["object"]["definition"]["name"] for s in (first, second)] == [
        {"und": "Thủ đô của Việt Nam là gì?"},
        {"und": "Chọn các định dạng sách điện tử."},
    ]
    assert [s.raw["result"]["response"] for s in (first, second)] == ["[1]", "[0]"]
    assert "duration" not in first.raw["result"] and "duration" not in second.raw["result"]
    # The questions do not count as tries of the activity.
    row = ActivityProgress.objects.get(user=user, lesson=lesson, block_id=block_id)
    assert (row.attempts, row.best_score, row.last_answers) == (1, 0.5, {"0": [1], "1": [0]})
    assert LessonProgress.objects.get(user=user, lesson=lesson).attempts == 1


@pytest.mark.parametrize("seconds", [None, -30, QUIZ_TIME_NOT_BELIEVED + 1, math.nan])
def test_a_try_with_an_untrusted_time_records_none(quiz_lesson, seconds):
    lesson, block_id, user = quiz_lesson
    submit_quiz(
        user=user, lesson=lesson, block_id=block_id, answers=ALL_RIGHT, base=BASE, seconds=seconds
    )
    whole = XAPIStatement.objects.get(user=user, sub_content_id="")
    assert "duration" not in whole.raw["result"]
    assert whole.success is True


def test_questions_saved_in_the_editor_keep_their_own_ids():
    """A lesson saved in the editor stores an id per question: reordering the questions later
    keeps each question's count in the class report."""
    course = make_course()
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    block = quiz_block()
    first = question("Một?", "single", "", {"a": True, "b": False})
    second = question("Hai?", "single", "", {"a": False, "b": True})
    block["value"]["questions"] = [
        {"type": "item", "id": ids[0], "value": first},
        {"type": "item", "id": ids[1], "value": second},
    ]
    lesson = make_lesson(course, blocks=[block])
    user = UserFactory()
    enrol(user=user, course=course)
    assert question_ids(quiz_block_value(lesson, block["id"])) == ids
    submit_quiz(user=user, lesson=lesson, block_id=block["id"], answers={0: [0], 1: [0]}, base=BASE)
    answered = {
        s.sub_content_id: s.success
        for s in XAPIStatement.objects.filter(user=user).exclude(sub_content_id="")
    }
    assert answered == {ids[0]: True, ids[1]: False}


def test_the_lesson_page_sends_its_start_time(client, quiz_lesson):
    lesson, block_id, user = quiz_lesson
    client.force_login(user)
    page = client.get(lesson.url).content.decode()
    assert '<input type="hidden" name="started" value="' in page
    started = int(NOW.timestamp()) - 125
    with mock.patch("courses.xapi.services.timezone.now", return_value=NOW):
        response = client.post(
            reverse("courses:submit_quiz", args=[lesson.pk, block_id]),
            {"started": str(started), "q-0": ["1"], "q-1": ["0", "2"]},
        )
    assert response.status_code == 302
    whole = XAPIStatement.objects.get(user=user, sub_content_id="")
    assert whole.raw["result"]["duration"] == "PT125S"


@pytest.mark.parametrize(
    "started",
    [str(int(NOW.timestamp()) + 3600), "0", "nonsense", ""],
    ids=["future", "1970", "nonsense", "empty"],
)
def test_a_forged_start_time_records_no_time(client, quiz_lesson, started):
    lesson, block_id, user = quiz_lesson
    client.force_login(user)
    with mock.patch("courses.xapi.services.timezone.now", return_value=NOW):
        response = client.post(
            reverse("courses:submit_quiz", args=[lesson.pk, block_id]),
            {"started": started, "q-0": ["1"], "q-1": ["0", "2"]},
        )
    assert response.status_code == 302
    whole = XAPIStatement.objects.get(user=user, sub_content_id="")
    assert "duration" not in whole.raw["result"]
    assert json.loads(json.dumps(whole.raw["result"]["score"])) == {
        "min": 0,
        "max": 2,
        "raw": 2,
        "scaled": 1.0,
    }
    assert timezone.is_aware(whole.timestamp)
