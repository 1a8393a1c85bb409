"""Enrolment, progress and completion: the only code that writes those tables.

Rules:
- one Enrollment per person and course; anyone logged in may enrol in an open course;
- a lesson is complete when it was viewed and each required activity is completed (and
  passed, where the block sets a pass mark);
- a course is complete when all its published lessons are; a certificate is then issued once.

Each xAPI statement costs a constant number of queries: the lesson, the enrolment (locked, so
one learner's statements for one course are applied one after another), the duplicate check,
the insert, the learner's activity rows in the lesson, and the lesson progress.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
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
    XAPIStatement,
)
from courses.models.pages import ActivitySpec
from courses.training import figures as training_figures
from courses.training.activities import activity_iri
from courses.xapi.statements import ADL, ParsedStatement, StatementError, actor_for, parse_statement

LAST_ACTIVITY_RESOLUTION = timedelta(minutes=1)


class ProgressError(Exception):
    """A request the rules refuse; the message can be shown to the learner."""


# --- enrolment -------------------------------------------------------------------------


def library_of(user):
    """The learner's library: their earliest membership at an active library, or None."""
    from libraries.models import Membership

    membership = (
        Membership.objects.filter(user=user, library__is_active=True)
        .select_related("library")
        .order_by("created_at", "pk")
        .first()
    )
    return membership.library if membership else None


@transaction.atomic
def enrol(*, user, course: CoursePage, by=None) -> Enrollment:
    """Enrol a learner in a course; enrolling twice returns the same enrolment.

    Self-enrolment (``by`` is None or the learner) needs an open course; a teacher or
    librarian passes ``by=`` after checking their permission with libraries.access.
    """
    if not user or not user.is_authenticated:
        raise ProgressError(_("Log in to enrol."))
    if not course.live:
        raise ProgressError(_("This course is not published."))
    existing = Enrollment.objects.filter(user=user, course=course).first()
    if existing:
        return existing
    self_enrolment = by is None or by.pk == user.pk
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
    return enrollment


def is_enrolled(user, course: CoursePage) -> bool:
    if not user or not user.is_authenticated:
        return False
    return Enrollment.objects.filter(user=user, course=course).exists()


def _locked_enrollment(user, lesson: LessonPage) -> Enrollment | None:
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


def _evaluate_lesson(
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
        from courses.training.certificates import issue_certificate

        issue_certificate(user=enrollment.user, course=course)


def _lesson_progress(user, lesson: LessonPage, course_id: int) -> LessonProgress:
    progress = LessonProgress.objects.filter(user=user, lesson=lesson).first()
    if progress is None:
        progress = LessonProgress(user=user, lesson=lesson, course_id=course_id)
    return progress


def _save_lesson(progress: LessonProgress, enrollment: Enrollment, was_complete: bool, now):
    progress.save()
    if progress.completed_at is not None and not was_complete:
        _update_course(enrollment, now)


@transaction.atomic
def mark_viewed(*, user, lesson: LessonPage) -> LessonProgress | None:
    """Record that an enrolled learner opened a lesson; None when they are not enrolled."""
    if not user or not user.is_authenticated:
        return None
    enrollment = _locked_enrollment(user, lesson)
    if enrollment is None:
        return None
    now = timezone.now()
    progress = _lesson_progress(user, lesson, enrollment.course_id)
    was_complete = progress.completed_at is not None
    changed = progress.pk is None
    if progress.viewed_at is None:
        progress.viewed_at = now
        changed = True
    rows = {r.block_id: r for r in ActivityProgress.objects.filter(user=user, lesson=lesson)}
    changed = _evaluate_lesson(progress, lesson.activity_specs(), rows, now) or changed
    if changed:
        _save_lesson(progress, enrollment, was_complete, now)
    enrollment.last_lesson = lesson
    enrollment.last_activity_at = now
    enrollment.save(update_fields=["last_lesson", "last_activity_at"])
    return progress


@transaction.atomic
def refresh_lesson(*, user, lesson: LessonPage) -> LessonProgress | None:
    """Re-evaluate a lesson (e.g. after an editor changed its activities)."""
    enrollment = _locked_enrollment(user, lesson)
    if enrollment is None:
        return None
    now = timezone.now()
    progress = _lesson_progress(user, lesson, enrollment.course_id)
    was_complete = progress.completed_at is not None
    rows = {r.block_id: r for r in ActivityProgress.objects.filter(user=user, lesson=lesson)}
    if _evaluate_lesson(progress, lesson.activity_specs(), rows, now) or progress.pk is None:
        _save_lesson(progress, enrollment, was_complete, now)
    return progress


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


# --- results: xAPI statements and native quizzes ------------------------------------------


def _apply_result(row: ActivityProgress, parsed: ParsedStatement) -> None:
    if parsed.is_result:
        row.attempts += 1
    if parsed.score is not None:
        row.last_score = round(parsed.score, 4)
        if row.best_score is None or row.last_score > row.best_score:
            row.best_score = row.last_score
    if parsed.finishes_activity:
        row.completed = True
    if parsed.success is True or parsed.verb in (ADL + "passed", ADL + "mastered"):
        row.passed = True


class _Rejected(Exception):
    def __init__(self, index: int, reason: str):
        super().__init__(reason)
        self.index, self.reason = index, reason


def _store_batch(user, parsed: list[ParsedStatement], base: str) -> list[XAPIStatement]:
    """Store statements and apply them to progress with a fixed number of queries per list.

    Queries: lessons (1), enrolments locked (1), replay check (1), insert (1), activity rows
    (1), lesson progress (1), then writes for each activity and lesson touched.
    """
    now = timezone.now()
    lessons = {
        lesson.pk: lesson
        for lesson in LessonPage.objects.live()
        .filter(pk__in={p.activity.lesson_id for p in parsed})
        .only("path", "depth", "live", "body")
    }
    specs: dict[int, dict[str, ActivitySpec]] = {}
    for index, item in enumerate(parsed):
        lesson = lessons.get(item.activity.lesson_id)
        if lesson is None:
            raise _Rejected(index, "the lesson does not exist or is not published")
        if lesson.pk not in specs:
            specs[lesson.pk] = {spec.block_id: spec for spec in lesson.activity_specs()}
        if item.activity.block_id not in specs[lesson.pk]:
            raise _Rejected(index, "the lesson has no such activity")

    def course_path(lesson_id: int) -> str:
        return lessons[lesson_id].path[: -LessonPage.steplen]

    enrollments = {
        e.course_path: e
        for e in Enrollment.objects.select_for_update(of=("self",))
        .filter(user=user, course__path__in={course_path(pk) for pk in lessons})
        .annotate(course_path=F("course__path"))
        .order_by()
    }
    for index, item in enumerate(parsed):
        if course_path(item.activity.lesson_id) not in enrollments:
            raise _Rejected(index, "you are not enrolled in the course of this lesson")

    ids = [p.statement_id for p in parsed if p.statement_id is not None]
    existing = (
        {
            row.statement_id: row
            for row in XAPIStatement.objects.filter(statement_id__in=ids).order_by()
        }
        if ids
        else {}
    )
    results, new = [], []
    for index, item in enumerate(parsed):
        replay = existing.get(item.statement_id)
        if replay is not None:
            if replay.user_id != user.pk:
                raise _Rejected(index, "statement id already used")
            results.append(replay)  # a replay changes nothing
            continue
        statement_id = item.statement_id or uuid.uuid4()
        statement = XAPIStatement(
            statement_id=statement_id,
            user=user,
            lesson_id=item.activity.lesson_id,
            block_id=item.activity.block_id,
            verb=item.verb,
            object_id=item.object_id,
            sub_content_id=item.activity.sub_content_id,
            score_scaled=item.score_scaled,
            success=item.success,
            completion=item.completion,
            timestamp=item.timestamp,
            raw=dict(item.raw, id=str(statement_id), actor=actor_for(user, base)),
        )
        results.append(statement)
        new.append(item)
    if not new:
        return results
    XAPIStatement.objects.bulk_create([r for r in results if r.pk is None])

    touched = {item.activity.lesson_id for item in new}
    rows = {
        (row.lesson_id, row.block_id): row
        for row in ActivityProgress.objects.filter(user=user, lesson_id__in=touched)
    }
    progress = {
        p.lesson_id: p for p in LessonProgress.objects.filter(user=user, lesson_id__in=touched)
    }
    changed: dict[tuple[int, str], ActivityProgress] = {}
    for item in new:
        if item.activity.sub_content_id:
            continue  # one question inside a Column only shows the learner is trying
        key = (item.activity.lesson_id, item.activity.block_id)
        row = rows.get(key) or ActivityProgress(
            user=user,
            lesson_id=key[0],
            block_id=key[1],
            kind=specs[key[0]][key[1]].kind,
        )
        _apply_result(row, item)
        row.updated_at = now
        rows[key] = changed[key] = row
    ActivityProgress.objects.bulk_create([r for r in changed.values() if r.pk is None])
    fields = ["attempts", "last_score", "best_score", "completed", "passed", "updated_at"]
    updated = [r for r in changed.values() if r.pk is not None]
    if len(updated) == 1:
        updated[0].save(update_fields=fields)  # cheaper to build than bulk_update's CASE
    elif updated:
        ActivityProgress.objects.bulk_update(updated, fields)

    for lesson_id in sorted(touched):
        enrollment = enrollments[course_path(lesson_id)]
        lesson_progress = progress.get(lesson_id) or LessonProgress(
            user=user, lesson=lessons[lesson_id], course_id=enrollment.course_id
        )
        was_complete = lesson_progress.completed_at is not None
        was_attempted = lesson_progress.attempted
        lesson_progress.attempted = True
        lesson_rows = {block: row for (pk, block), row in rows.items() if pk == lesson_id}
        specs_list = list(specs[lesson_id].values())
        if (
            _evaluate_lesson(lesson_progress, specs_list, lesson_rows, now)
            or lesson_progress.pk is None
            or not was_attempted
        ):
            _save_lesson(lesson_progress, enrollment, was_complete, now)
    stale = [
        e.pk
        for e in enrollments.values()
        if e.last_activity_at is None or now - e.last_activity_at > LAST_ACTIVITY_RESOLUTION
    ]
    if stale:
        Enrollment.objects.filter(pk__in=stale).update(last_activity_at=now)
    return results


def record_statements(*, user, statements: list[dict], base: str) -> list[XAPIStatement]:
    """Validate, store and apply a list of statements: all of them, or none.

    ``base`` is this site's scheme://host: object ids must be activities under it.
    Raises StatementError with the reason (prefixed by the statement's position in a list).
    """
    if not user or not user.is_authenticated:
        raise StatementError("log in first")
    parsed = []
    for index, data in enumerate(statements):
        try:
            parsed.append(parse_statement(data, base=base))
        except StatementError as exc:
            raise StatementError(_position(index, len(statements), exc))
    ids = [p.statement_id for p in parsed if p.statement_id is not None]
    if len(ids) != len(set(ids)):
        raise StatementError("the same statement id appears twice")
    try:
        with transaction.atomic():
            return _store_batch(user, parsed, base)
    except _Rejected as exc:
        raise StatementError(_position(exc.index, len(parsed), exc.reason))
    except IntegrityError:
        # Another learner stored the same statement id at the same moment.
        raise StatementError("statement id already used")


def _position(index: int, count: int, reason) -> str:
    return f"statement {index}: {reason}" if count > 1 else str(reason)


def record_statement(*, user, statement: dict, base: str) -> XAPIStatement:
    """Validate, store and apply one statement in one transaction. Raises StatementError."""
    return record_statements(user=user, statements=[statement], base=base)[0]


@dataclass
class QuizResult:
    score: float  # 0..1
    correct: int
    total: int
    passed: bool | None  # None when the quiz has no pass mark
    questions: list[bool] = field(default_factory=list)
    statement: XAPIStatement | None = None


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


def submit_quiz(*, user, lesson: LessonPage, block_id: str, answers: dict, base: str) -> QuizResult:
    """Grade a native quiz on the server, record it as an xAPI statement, update progress."""
    quiz = quiz_block_value(lesson, block_id)
    if quiz is None:
        raise ProgressError(_("This quiz no longer exists. Reload the lesson."))
    if not is_enrolled(user, lesson.course):
        raise ProgressError(_("Enrol in the course to save your answers."))
    correct, total, verdicts = grade_quiz(quiz, answers)
    score = correct / total if total else 0.0
    pass_mark = quiz.get("pass_mark")
    passed = None if pass_mark is None else score * 100 >= pass_mark - 1e-9
    response = {str(i): sorted(int(c) for c in (answers.get(i) or [])) for i in range(total)}
    statement = {
        "verb": {"id": ADL + "answered", "display": {"en-US": "answered"}},
        "object": {
            "id": activity_iri(base, lesson, block_id),
            "objectType": "Activity",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
        },
        "result": {
            "score": {"min": 0, "max": total, "raw": correct, "scaled": round(score, 4)},
            "completion": True,
            "response": str(response),
        },
        "timestamp": timezone.now().isoformat(),
    }
    if passed is not None:
        statement["result"]["success"] = passed
    try:
        stored = record_statement(user=user, statement=statement, base=base)
    except StatementError as exc:
        raise ProgressError(str(exc))
    ActivityProgress.objects.filter(user=user, lesson=lesson, block_id=block_id).update(
        last_answers=response
    )
    return QuizResult(score, correct, total, passed, verdicts, stored)


# --- selectors for pages ------------------------------------------------------------------


def course_overview(*, user, course: CoursePage) -> dict:
    """Enrolment, lessons with the learner's progress, certificate, and where to resume."""
    lessons = list(course.lessons())
    enrollment = certificate = None
    progress = {}
    if user and user.is_authenticated:
        enrollment = Enrollment.objects.filter(user=user, course=course).first()
        if enrollment:
            progress = {
                p.lesson_id: p for p in LessonProgress.objects.filter(user=user, course=course)
            }
            certificate = Certificate.objects.filter(user=user, course=course).first()
    rows = [(lesson, progress.get(lesson.pk)) for lesson in lessons]
    resume = next((lesson for lesson, p in rows if not (p and p.completed)), None)
    return {
        "enrollment": enrollment,
        "lesson_rows": rows,
        "certificate": certificate,
        "resume_lesson": resume or (lessons[0] if lessons else None),
    }


def lesson_overview(*, user, lesson: LessonPage, request) -> dict:
    course = lesson.course
    siblings = list(course.lessons().only("pk", "title", "path", "url_path")) if course else []
    position = next((i for i, s in enumerate(siblings) if s.pk == lesson.pk), None)
    enrollment = progress = None
    activities: dict[str, ActivityProgress] = {}
    if user and user.is_authenticated and course:
        enrollment = Enrollment.objects.filter(user=user, course=course).first()
        if enrollment:
            progress = LessonProgress.objects.filter(user=user, lesson=lesson).first()
            activities = {
                a.block_id: a for a in ActivityProgress.objects.filter(user=user, lesson=lesson)
            }
    return {
        "course": course,
        "enrollment": enrollment,
        "lesson_progress": progress,
        "activity_progress": activities,
        "lesson_number": None if position is None else position + 1,
        "lesson_count": len(siblings),
        "previous_lesson": siblings[position - 1] if position else None,
        "next_lesson": (
            siblings[position + 1]
            if position is not None and position + 1 < len(siblings)
            else None
        ),
    }


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
