"""Enrolment, progress and completion: the only code that writes those tables.

Rules:
- one Enrollment per person and course; anyone logged in may enrol in an open course;
- a lesson is complete when it was viewed and each required activity is completed (and
  passed, where the block sets a pass mark);
- a course is complete when all its published lessons are; a certificate is then issued once.

Results of activities (xAPI statements, native quiz answers) are stored and applied by
courses/xapi/services.py with evaluate_lesson() and save_lesson() below.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import (
    ActivityProgress,
    Certificate,
    CoursePage,
    Enrollment,
    LessonPage,
    LessonProgress,
)
from courses.models.pages import ActivitySpec
from courses.training import figures as training_figures
from courses.training.certificates import issue_certificate
from libraries.models import Membership
from libraries.network.audit import log_change

LAST_ACTIVITY_RESOLUTION = timedelta(minutes=1)

# The staff audit log (libraries/network/audit.py), label in courses/wagtail_hooks.py: an
# enrolment made by staff (a group, a class's assignment, a new student of a class), on the
# learner's library as the enrolment holds it (courses/training/access.py reads the same).
# A learner enrolling themselves is not a staff change and is not logged.
ENROLMENT_CREATE_ACTION = "courses.enrolment.create"


class ProgressError(Exception):
    """A request the rules refuse; the message can be shown to the learner."""


# --- enrolment -------------------------------------------------------------------------


def library_of(user):
    """The learner's library: their earliest membership at an active library, or None."""
    membership = (
        Membership.objects.filter(user=user, library__is_active=True)
        .select_related("library")
        .order_by("created_at", "pk")
        .first()
    )
    return membership.library if membership else None


@transaction.atomic
def enrol(*, user, course: CoursePage, by=None, batch=None) -> Enrollment:
    """Enrol a learner in a course; enrolling twice returns the same enrolment.

    Self-enrolment (``by`` is None or the learner) needs an open course; a teacher or
    librarian passes ``by=`` after checking their permission with libraries.access. An
    enrolment made by staff is logged (``batch``: the staff action it belongs to).
    """
    return _enrol(user=user, course=course, by=by, batch=batch)[0]


def _enrol(
    *, user, course: CoursePage, by=None, by_staff=False, batch=None
) -> tuple[Enrollment, bool]:
    """enrol(), saying whether the enrolment is new. ``by_staff``: staff enrolling a group,
    themselves included, need no open course."""
    if not user or not user.is_authenticated:
        raise ProgressError(_("Log in to enrol."))
    if not course.live:
        raise ProgressError(_("This course is not published."))
    existing = Enrollment.objects.filter(user=user, course=course).first()
    if existing:
        return existing, False
    self_enrolment = not by_staff and (by is None or by.pk == user.pk)
    if self_enrolment and not course.self_enrolment:
        raise ProgressError(_("This course is not open for self-enrolment. Ask your teacher."))
    enrollment, created = Enrollment.objects.get_or_create(
        user=user,
        course=course,
        defaults={
            "library": library_of(user),
            "enrolled_by": None if self_enrolment else by,
            "lessons_total": course.lessons().count(),
        },
    )
    if created:
        training_figures.enrolment_added(enrollment)
        if not self_enrolment:
            log_change(
                enrollment,
                ENROLMENT_CREATE_ACTION,
                by=by,
                before={},
                after={"user": user.pk, "course": course.pk, "library": enrollment.library_id},
                library=enrollment.library,
                batch=batch,
            )
    return enrollment, created


@dataclass
class GroupEnrolment:
    enrolled: list[Enrollment]  # new enrolments
    already: list[Enrollment]  # learners enrolled before


@transaction.atomic
def enrol_group(*, users, course: CoursePage, by) -> GroupEnrolment:
    """Enrol several learners at once (staff enrolling a class or a list of people).

    Learners enrolled before are counted, not enrolled again, so a second click changes
    nothing. The course row is locked first: two group enrolments in the same course run one
    after the other. Who may enrol whom is asked by the caller
    (courses/training/access.py: learners_within_reach).
    """
    if not course.live:
        raise ProgressError(_("This course is not published."))
    CoursePage.objects.select_for_update(of=("self",)).filter(pk=course.pk).first()
    result = GroupEnrolment(enrolled=[], already=[])
    batch = uuid.uuid4()
    for learner in sorted({u.pk: u for u in users}.values(), key=lambda u: u.pk):
        enrollment, created = _enrol(user=learner, course=course, by=by, by_staff=True, batch=batch)
        (result.enrolled if created else result.already).append(enrollment)
    return result


def is_enrolled(user, course: CoursePage) -> bool:
    if not user or not user.is_authenticated:
        return False
    return Enrollment.objects.filter(user=user, course=course).exists()


def locked_enrollment(user, lesson: LessonPage) -> Enrollment | None:
    """The learner's enrolment in the lesson's course, row-locked, in one query."""
    parent_path = lesson.path[: -LessonPage.steplen]
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("course")
        .filter(user=user, course__path=parent_path)
        .first()
    )


# --- lesson and course state ---------------------------------------------------------


def _activity_ok(spec: ActivitySpec, row: ActivityProgress | None) -> bool:
    if row is None or not row.completed:
        return False
    if spec.pass_mark is None:
        return True
    return row.best_score is not None and row.best_score * 100 >= spec.pass_mark - 1e-9


def evaluate_lesson(
    progress: LessonProgress, specs: list[ActivitySpec], rows: dict[str, ActivityProgress], now
) -> bool:
    """Recompute a LessonProgress from its activity rows. Returns True if it changed."""
    before = (
        progress.attempted,
        progress.attempts,
        progress.best_score,
        progress.passed,
        progress.completed_at,
    )
    known = [rows[s.block_id] for s in specs if s.block_id in rows]
    scores = [row.best_score for row in known if row.best_score is not None]
    progress.attempts = sum(row.attempts for row in known)
    progress.attempted = progress.attempted or progress.attempts > 0
    progress.best_score = round(sum(scores) / len(scores), 4) if scores else None
    required = [s for s in specs if s.required]
    all_ok = all(_activity_ok(s, rows.get(s.block_id)) for s in required)
    progress.passed = all(
        _activity_ok(s, rows.get(s.block_id)) for s in required if s.pass_mark is not None
    ) and any(s.pass_mark is not None for s in required)
    if progress.completed_at is None and progress.viewed_at is not None and all_ok:
        progress.completed_at = now
    after = (
        progress.attempted,
        progress.attempts,
        progress.best_score,
        progress.passed,
        progress.completed_at,
    )
    return before != after


def _update_course(enrollment: Enrollment, now) -> None:
    """Recount the enrolment's completed lessons; complete the course and certify when done."""
    course = enrollment.course
    lesson_ids = list(course.lessons().values_list("pk", flat=True))
    done = LessonProgress.objects.filter(
        user_id=enrollment.user_id, lesson_id__in=lesson_ids, completed_at__isnull=False
    ).count()
    enrollment.lessons_total = len(lesson_ids)
    enrollment.lessons_completed = done
    fields = ["lessons_total", "lessons_completed"]
    newly_complete = enrollment.completed_at is None and lesson_ids and done == len(lesson_ids)
    if newly_complete:
        enrollment.completed_at = now
        fields.append("completed_at")
    enrollment.save(update_fields=fields)
    if newly_complete:
        training_figures.completion_added(enrollment)
    if newly_complete and course.certificate_enabled:
        issue_certificate(user=enrollment.user, course=course)


def _lesson_progress(user, lesson: LessonPage, course_id: int) -> LessonProgress:
    progress = LessonProgress.objects.filter(user=user, lesson=lesson).first()
    if progress is None:
        progress = LessonProgress(user=user, lesson=lesson, course_id=course_id)
    return progress


def save_lesson(progress: LessonProgress, enrollment: Enrollment, was_complete: bool, now):
    progress.save()
    if progress.completed_at is not None and not was_complete:
        _update_course(enrollment, now)


def _reevaluate(user, lesson, enrollment, now, *, viewed: bool) -> LessonProgress:
    """Recompute the learner's lesson progress from its activity rows, and save it if changed."""
    progress = _lesson_progress(user, lesson, enrollment.course_id)
    was_complete = progress.completed_at is not None
    changed = progress.pk is None
    if viewed and progress.viewed_at is None:
        progress.viewed_at = now
        changed = True
    rows = {r.block_id: r for r in ActivityProgress.objects.filter(user=user, lesson=lesson)}
    if evaluate_lesson(progress, lesson.activity_specs(), rows, now) or changed:
        save_lesson(progress, enrollment, was_complete, now)
    return progress


@transaction.atomic
def mark_viewed(*, user, lesson: LessonPage) -> LessonProgress | None:
    """Record that an enrolled learner opened a lesson; None when they are not enrolled."""
    if not user or not user.is_authenticated:
        return None
    enrollment = locked_enrollment(user, lesson)
    if enrollment is None:
        return None
    now = timezone.now()
    progress = _reevaluate(user, lesson, enrollment, now, viewed=True)
    enrollment.last_lesson = lesson
    enrollment.last_activity_at = now
    enrollment.save(update_fields=["last_lesson", "last_activity_at"])
    return progress


@transaction.atomic
def refresh_lesson(*, user, lesson: LessonPage) -> LessonProgress | None:
    """Re-evaluate a lesson (e.g. after an editor changed its activities)."""
    enrollment = locked_enrollment(user, lesson)
    if enrollment is None:
        return None
    return _reevaluate(user, lesson, enrollment, timezone.now(), viewed=False)


@transaction.atomic
def refresh_course(*, user, course: CoursePage) -> Enrollment | None:
    """Recount a learner's completed lessons in a course (and certify when complete)."""
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("course")
        .filter(user=user, course=course)
        .first()
    )
    if enrollment is not None:
        _update_course(enrollment, timezone.now())
    return enrollment


# --- native quizzes -----------------------------------------------------------------------


def quiz_block_value(lesson: LessonPage, block_id: str):
    """The converted value of a quiz block (only quiz blocks are converted: no queries)."""
    for index, item in enumerate(lesson.body.raw_data):
        if item.get("id") == block_id and item.get("type") == "quiz":
            return lesson.body[index].value
    return None


def grade_quiz(quiz, answers: dict) -> tuple[int, int, list[bool]]:
    """Count correct questions. ``answers``: {question index: [choice indexes]}."""
    verdicts = []
    for q_index, question in enumerate(quiz["questions"]):
        correct = {i for i, choice in enumerate(question["choices"]) if choice["correct"]}
        chosen = answers.get(q_index) or answers.get(str(q_index)) or []
        try:
            chosen = {int(i) for i in chosen}
        except (TypeError, ValueError):
            chosen = set()
        if question["kind"] == "single" and len(chosen) > 1:
            chosen = set()
        verdicts.append(chosen == correct)
    return sum(verdicts), len(verdicts), verdicts


# --- selectors for pages ------------------------------------------------------------------


@dataclass
class LessonRow:
    lesson: LessonPage
    progress: LessonProgress | None
    activities: list[ActivityProgress]

    @property
    def status(self) -> str:
        if self.progress is None or (
            self.progress.viewed_at is None and not self.progress.attempted
        ):
            return "not_started"
        return "completed" if self.progress.completed_at else "in_progress"


def enrolment_progress(enrollment: Enrollment) -> list[LessonRow]:
    """The learner's state in each published lesson of the course, in order (three queries)."""
    lessons = list(enrollment.course.lessons().only("pk", "title", "path", "depth", "body"))
    progress = {
        p.lesson_id: p
        for p in LessonProgress.objects.filter(user_id=enrollment.user_id, lesson__in=lessons)
    }
    activities: dict[int, list[ActivityProgress]] = {}
    for row in ActivityProgress.objects.filter(
        user_id=enrollment.user_id, lesson__in=lessons
    ).order_by("pk"):
        activities.setdefault(row.lesson_id, []).append(row)
    rows = []
    for lesson in lessons:
        order = [spec.block_id for spec in lesson.activity_specs()]
        known = sorted(
            (a for a in activities.get(lesson.pk, []) if a.block_id in order),
            key=lambda a: order.index(a.block_id),
        )
        rows.append(LessonRow(lesson, progress.get(lesson.pk), known))
    return rows


@dataclass
class CourseSummary:
    enrollment: Enrollment
    course: CoursePage
    resume_lesson: LessonPage | None
    certificate: Certificate | None


def learning_summary(user) -> list[CourseSummary]:
    """The learner's enrolments, most recently active first, with where to resume."""
    enrollments = list(
        Enrollment.objects.filter(user=user, course__live=True)
        .select_related("course", "last_lesson")
        .order_by(
            F("completed_at").asc(nulls_first=True),
            F("last_activity_at").desc(nulls_last=True),
            "-enrolled_at",
        )
    )
    certificates = {c.course_id: c for c in Certificate.objects.filter(user=user)}
    summaries = []
    for enrollment in enrollments:
        resume = enrollment.last_lesson
        if resume is None or not resume.live:
            resume = enrollment.course.lessons().first()
        certificate = certificates.get(enrollment.course_id)
        summaries.append(CourseSummary(enrollment, enrollment.course, resume, certificate))
    return summaries
