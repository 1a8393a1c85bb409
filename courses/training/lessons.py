"""Who may see a lesson: one rule for the lesson page and the mobile API.

A lesson is shown when it is published (live) and every view restriction of the lesson and of
the pages above it (the course, the course list: Wagtail's privacy setting "logged-in users",
"some groups" or "a password") lets the visitor in, tested by Wagtail's own check. Neither
the course's audience nor enrolment decides who sees a lesson: anyone may read a public
lesson; enrolment only decides whether the visit and the results are saved
(courses/training/progress.py).
"""

from enum import StrEnum
from types import SimpleNamespace

from wagtail.models import PageViewRestriction

from courses.models import CoursePage, LessonPage


class Refusal(StrEnum):
    NOT_FOUND = "not_found"  # no such lesson in that course, or not published
    LOGIN = "login"  # for logged-in users (or some groups): log in first
    GROUPS = "groups"  # for some groups, and the account is in none of them
    PASSWORD = "password"  # noqa: S105 - the page's password was not given in this session


def course_lesson(*, course_id: int, lesson_id: int) -> LessonPage | None:
    """Lesson `lesson_id` if it is a lesson of course `course_id` (its parent page), else None."""
    lesson = LessonPage.objects.filter(pk=lesson_id).first()
    if lesson is None:
        return None
    course = lesson.course
    if not isinstance(course, CoursePage) or course.pk != course_id:
        return None
    return lesson


def lesson_refusal(lesson: LessonPage | None, *, user, session) -> Refusal | None:
    """Why this visitor may not see `lesson`, or None when they may.

    `user` is the visitor's account (or an AnonymousUser); `session` is their browser session,
    which remembers the page passwords typed on the site (a mobile app's token has none).
    """
    if lesson is None or not lesson.live:
        return Refusal.NOT_FOUND
    visitor = SimpleNamespace(user=user, session=session)  # what Wagtail's check reads
    for restriction in lesson.get_view_restrictions():
        if restriction.accept_request(visitor):
            continue
        if restriction.restriction_type == PageViewRestriction.PASSWORD:
            return Refusal.PASSWORD
        if not user.is_authenticated:
            return Refusal.LOGIN
        return Refusal.GROUPS
    return None
