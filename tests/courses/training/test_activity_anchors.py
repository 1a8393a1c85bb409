"""Every address of an activity on its lesson page (courses/training/activities.py,
`activity_page_url`) names an id the page renders: the activity IRI's redirect and the
native quiz's answer redirect, for H5P blocks and quizzes alike."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from courses.training.activities import activity_anchor, activity_page_url
from courses.training.progress import enrol
from tests.courses.training.factories import (
    h5p_block,
    make_course,
    make_lesson,
    quiz_block,
    text_block,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id"]


def ids_at(client, location: str) -> tuple[str, list[str]]:
    target = urlsplit(location)
    page = client.get(target.path)
    assert page.status_code == 200
    parser = Ids()
    parser.feed(page.content.decode())
    return target.fragment, parser.ids


@pytest.fixture
def lesson():
    h5p, quiz = h5p_block(), quiz_block()
    lesson = make_lesson(make_course(), blocks=[text_block(), h5p, quiz])
    lesson.h5p_id, lesson.quiz_id = h5p["id"], quiz["id"]
    return lesson


def test_the_activity_iri_opens_the_page_at_its_block(client, lesson):
    for kind, block_id in (("h5p", lesson.h5p_id), ("quiz", lesson.quiz_id)):
        response = client.get(reverse("courses:activity", args=[lesson.pk, block_id]))
        assert response.status_code == 302
        assert response["Location"] == activity_page_url(lesson, kind, block_id)
        anchor, ids = ids_at(client, response["Location"])
        assert anchor == activity_anchor(kind, block_id)
        assert ids.count(anchor) == 1


def test_the_quiz_answer_returns_to_the_quiz(client, lesson):
    user = UserFactory()
    enrol(user=user, course=lesson.get_parent().specific)
    client.force_login(user)
    response = client.post(
        reverse("courses:submit_quiz", args=[lesson.pk, lesson.quiz_id]), {"q-0": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{lesson.url}#quiz-{lesson.quiz_id}"
    anchor, ids = ids_at(client, response["Location"])
    assert ids.count(anchor) == 1


def test_the_anchors_are_the_ids_the_templates_render(client, lesson):
    _, ids = ids_at(client, lesson.url)
    assert f"activity-{lesson.h5p_id}" in ids
    assert f"quiz-{lesson.quiz_id}" in ids
    assert f"activity-{lesson.quiz_id}" not in ids
