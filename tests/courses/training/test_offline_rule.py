"""A lesson kept offline follows the lesson page's one rule (courses/training/lessons.py,
`lesson_refusal`): each lesson the page refuses, its offline file list refuses too, and a
lesson the page shows is listed (courses/training/offline.py)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import PageViewRestriction

from courses.models import Enrollment
from courses.training.lessons import Refusal, lesson_refusal
from tests.courses.training.factories import make_course, make_lesson, text_block
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONTENT = "Nội dung bài học."


def files_url(lesson):
    return reverse("courses:lesson_offline_files", args=[lesson.pk])


def private_to_a_group(lesson):
    restriction = PageViewRestriction.objects.create(
        page=lesson.get_parent(), restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Thủ thư huyện"))
    return Refusal.GROUPS


def behind_a_password(lesson):
    PageViewRestriction.objects.create(
        page=lesson, restriction_type=PageViewRestriction.PASSWORD, password="bimat"
    )
    return Refusal.PASSWORD


def unpublished(lesson):
    lesson.unpublish()
    return Refusal.NOT_FOUND


@pytest.mark.parametrize("refuse", [private_to_a_group, behind_a_password, unpublished])
def test_a_lesson_the_page_refuses_is_refused_offline(client, refuse):
    course = make_course(self_enrolment=False)
    lesson = make_lesson(course, blocks=[text_block(f"<p>{CONTENT}</p>")])
    learner = UserFactory()
    expected = refuse(lesson)
    lesson.refresh_from_db()
    client.force_login(learner)

    assert lesson_refusal(lesson, user=learner, session=client.session) == expected
    assert CONTENT not in client.get(lesson.url).content.decode()
    response = client.get(files_url(lesson))
    assert response.status_code == 404
    assert CONTENT not in response.content.decode()
    assert lesson.title not in response.content.decode()


def test_a_private_course_the_learner_is_enrolled_in_is_still_refused_when_privacy_says_so(client):
    """Enrolment does not open a lesson the course's privacy closes: not on the page, not
    offline."""
    course = make_course(self_enrolment=False)
    lesson = make_lesson(course, blocks=[text_block(f"<p>{CONTENT}</p>")])
    private_to_a_group(lesson)
    learner = UserFactory()
    Enrollment.objects.create(user=learner, course=course)
    client.force_login(learner)
    assert client.get(lesson.url).status_code == 302
    assert client.get(files_url(lesson)).status_code == 404


def test_a_lesson_the_page_shows_is_listed_enrolled_or_not(client):
    """The page shows a public lesson of a course closed to self-enrolment to a learner who is
    not enrolled (enrolment decides only whether progress is saved): offline lists it too."""
    course = make_course(self_enrolment=False)
    lesson = make_lesson(course, title="Bài mở", blocks=[text_block(f"<p>{CONTENT}</p>")])
    learner = UserFactory()
    client.force_login(learner)
    assert not Enrollment.objects.filter(user=learner).exists()
    assert lesson_refusal(lesson, user=learner, session=client.session) is None
    page = client.get(lesson.url)
    assert page.status_code == 200
    assert CONTENT in page.content.decode()
    response = client.get(files_url(lesson))
    assert response.status_code == 200
    assert response.json() == {
        "lesson": lesson.pk,
        "title": "Bài mở",
        "url": lesson.url,
        "files": [lesson.url],
    }


def test_the_password_once_given_opens_the_page_and_the_offline_list_alike(client):
    course = make_course()
    lesson = make_lesson(course, blocks=[text_block(f"<p>{CONTENT}</p>")])
    behind_a_password(lesson)
    restriction = PageViewRestriction.objects.get(page=lesson)
    client.force_login(UserFactory())
    assert client.get(files_url(lesson)).status_code == 404
    client.post(
        reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, lesson.pk]),
        {"password": "bimat", "return_url": lesson.url},
    )
    assert CONTENT in client.get(lesson.url).content.decode()
    assert client.get(files_url(lesson)).status_code == 200
