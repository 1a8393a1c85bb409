"""The list of files of a lesson saved for offline use (courses/training/offline.py): given to
whoever may open the lesson, refused like the lesson to anyone else."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import PageViewRestriction

from courses.h5p.offline import offline_files
from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from tests.courses.h5p.support import fixture
from tests.courses.training.factories import h5p_block, make_course, make_lesson, text_block
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(db):
    package = install_package(validate_package(fixture("truefalse")), by=OPERATOR)
    course = make_course()
    lesson = make_lesson(course, title="Bài tương tác", blocks=[text_block(), h5p_block(package)])
    lesson.package = package
    return lesson


def files_url(lesson):
    return reverse("courses:lesson_offline_files", args=[lesson.pk])


def test_a_learner_gets_the_lesson_page_and_everything_its_activity_plays_with(client, lesson):
    client.force_login(UserFactory())
    response = client.get(files_url(lesson))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response.json() == {
        "lesson": lesson.pk,
        "title": "Bài tương tác",
        "url": lesson.url,
        "files": [lesson.url, *offline_files([lesson.package])],
    }


def test_a_lesson_without_activities_lists_its_page(client):
    lesson = make_lesson(make_course(), blocks=[text_block()])
    client.force_login(UserFactory())
    assert client.get(files_url(lesson)).json()["files"] == [lesson.url]


def test_anonymous_visitors_are_sent_to_log_in(client, lesson):
    response = client.get(files_url(lesson))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_lesson_not_published_is_not_found(client, lesson):
    lesson.unpublish()
    client.force_login(UserFactory())
    assert client.get(lesson.url).status_code == 404
    assert client.get(files_url(lesson)).status_code == 404
    assert client.post(files_url(lesson)).status_code == 405


def test_a_course_for_some_groups_lists_files_to_their_members_only(client, lesson):
    teachers = Group.objects.create(name="Giáo viên")
    restriction = PageViewRestriction.objects.create(
        page=lesson.get_parent(), restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(teachers)
    outsider, member = UserFactory(), UserFactory()
    member.groups.add(teachers)
    client.force_login(outsider)
    assert client.get(lesson.url).status_code == 302  # Wagtail: log in as someone else
    assert client.get(files_url(lesson)).status_code == 404
    client.force_login(member)
    assert client.get(lesson.url).status_code == 200
    assert client.get(files_url(lesson)).status_code == 200


def test_a_course_behind_a_password_lists_nothing_until_the_password_is_given(client, lesson):
    course = lesson.get_parent()
    restriction = PageViewRestriction.objects.create(
        page=course, restriction_type=PageViewRestriction.PASSWORD, password="bimat"
    )
    client.force_login(UserFactory())
    assert "Nội dung bài học." not in client.get(lesson.url).content.decode()
    assert client.get(files_url(lesson)).status_code == 404
    client.post(
        reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, course.pk]),
        {"password": "bimat", "return_url": lesson.url},
    )
    assert "Nội dung bài học." in client.get(lesson.url).content.decode()
    assert client.get(files_url(lesson)).status_code == 200
