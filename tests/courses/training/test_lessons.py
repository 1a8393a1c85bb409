"""courses/training/lessons.py: who may see a lesson, the one rule of the lesson page (and of
the API, tests/api/test_lessons.py)."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.test import Client
from wagtail.models import PageViewRestriction

from courses.models import LessonProgress
from courses.training.lessons import Refusal, course_lesson, lesson_refusal
from courses.training.progress import enrol
from tests.courses.training.factories import make_course, make_lesson, quiz_block, text_block
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return make_course(title="Kỹ năng số", audience="librarians", self_enrolment=False)


def test_a_lesson_belongs_to_its_course_only(course):
    lesson = make_lesson(course)
    other = make_course()
    assert course_lesson(course_id=course.pk, lesson_id=lesson.pk) == lesson
    assert course_lesson(course_id=other.pk, lesson_id=lesson.pk) is None
    assert course_lesson(course_id=lesson.pk, lesson_id=lesson.pk) is None
    assert course_lesson(course_id=course.pk, lesson_id=999999) is None


def test_a_public_lesson_is_for_everyone_whatever_the_audience_or_enrolment(course):
    """A librarians' course closed to self-enrolment: a student who is not enrolled and an
    anonymous visitor read its lessons (their visits are not saved)."""
    lesson = make_lesson(course)
    student = UserFactory()
    assert lesson_refusal(lesson, user=AnonymousUser(), session={}) is None
    assert lesson_refusal(lesson, user=student, session={}) is None


def test_an_unpublished_lesson_is_not_found(course):
    lesson = make_lesson(course)
    lesson.unpublish()
    assert lesson_refusal(lesson, user=UserFactory(), session={}) == Refusal.NOT_FOUND
    assert lesson_refusal(None, user=UserFactory(), session={}) == Refusal.NOT_FOUND


def test_the_privacy_of_the_course_or_the_lesson_decides(course):
    lesson = make_lesson(course)
    anonymous, reader, member = AnonymousUser(), UserFactory(), UserFactory()
    group = Group.objects.create(name="Thủ thư")
    member.groups.add(group)
    login = PageViewRestriction.objects.create(page=course, restriction_type="login")
    assert lesson_refusal(lesson, user=anonymous, session={}) == Refusal.LOGIN
    assert lesson_refusal(lesson, user=reader, session={}) is None
    login.delete()
    groups = PageViewRestriction.objects.create(page=lesson, restriction_type="groups")
    groups.groups.set([group])
    assert lesson_refusal(lesson, user=anonymous, session={}) == Refusal.LOGIN
    assert lesson_refusal(lesson, user=reader, session={}) == Refusal.GROUPS
    assert lesson_refusal(lesson, user=member, session={}) is None
    groups.delete()
    password = PageViewRestriction.objects.create(
        page=course, restriction_type="password", password="bi-mat"
    )
    assert lesson_refusal(lesson, user=member, session={}) == Refusal.PASSWORD
    passed = {password.passed_view_restrictions_session_key: [password.pk]}
    assert lesson_refusal(lesson, user=anonymous, session=passed) is None


def test_the_page_marks_nothing_for_a_learner_its_privacy_keeps_out(course):
    """An enrolled learner refused by the lesson's privacy is sent to log in, and the visit is
    not counted (it used to be, before the privacy check ran)."""
    lesson = make_lesson(course, blocks=[text_block(), quiz_block()])
    learner = UserFactory()
    enrol(user=learner, course=course, by=UserFactory())
    restriction = PageViewRestriction.objects.create(page=course, restriction_type="groups")
    restriction.groups.set([Group.objects.create(name="Thủ thư")])
    browser = Client()
    browser.force_login(learner)
    response = browser.get(lesson.url)
    assert response.status_code == 302
    assert response["Location"] == f"/_util/login/?next={lesson.url}"  # Wagtail's answer
    assert not LessonProgress.objects.exists()
    restriction.groups.first().user_set.add(learner)
    assert browser.get(lesson.url).status_code == 200
    assert LessonProgress.objects.get(user=learner, lesson=lesson).viewed
