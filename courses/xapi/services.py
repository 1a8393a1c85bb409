"""Results of activities: xAPI statements from the H5P player and answers to native quizzes.

Statements are validated (courses/xapi/statements.py), stored once (a replayed statement id
changes nothing) and applied to the learner's progress in the same transaction, with the
rules of courses/training/progress.py. Each list of statements costs a constant number of
queries: the lessons, the enrolments (locked, so one learner's statements for one course are
applied one after another), the replay check, the insert, the activity rows of the lessons
and their lesson progress.
"""

import math
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import (
    ActivityProgress,
    Enrollment,
    LessonPage,
    LessonProgress,
    XAPIStatement,
)
from courses.models.pages import ActivitySpec
from courses.training.activities import activity_iri
from courses.training.progress import (
    LAST_ACTIVITY_RESOLUTION,
    ProgressError,
    evaluate_lesson,
    grade_quiz,
    is_enrolled,
    quiz_block_value,
    save_lesson,
)
from courses.xapi.statements import ADL, ParsedStatement, StatementError, actor_for, parse_statement


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


# Statements from the player may name H5P activities only: native quizzes are graded here,
# and their one statement comes from submit_quiz(), never from a request body.
PLAYER_KINDS = ("h5p",)


def _store_batch(
    user, parsed: list[ParsedStatement], base: str, kinds: tuple[str, ...]
) -> list[XAPIStatement]:
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
        if specs[lesson.pk][item.activity.block_id].kind not in kinds:
            raise _Rejected(index, "this quiz is graded by the site: answer it on the lesson page")

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
            evaluate_lesson(lesson_progress, specs_list, lesson_rows, now)
            or lesson_progress.pk is None
            or not was_attempted
        ):
            save_lesson(lesson_progress, enrollment, was_complete, now)
    stale = [
        e.pk
        for e in enrollments.values()
        if e.last_activity_at is None or now - e.last_activity_at > LAST_ACTIVITY_RESOLUTION
    ]
    if stale:
        Enrollment.objects.filter(pk__in=stale).update(last_activity_at=now)
    return results


def record_statements(
    *, user, statements: list[dict], base: str, kinds: tuple[str, ...] = PLAYER_KINDS
) -> list[XAPIStatement]:
    """Validate, store and apply a list of statements: all of them, or none.

    ``base`` is this site's scheme://host: object ids must be activities under it, of one of
    the block ``kinds`` (the player's H5P activities unless the site grades it itself).
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
            return _store_batch(user, parsed, base, kinds)
    except _Rejected as exc:
        raise StatementError(_position(exc.index, len(parsed), exc.reason))
    except IntegrityError:
        # Another learner stored the same statement id at the same moment.
        raise StatementError("statement id already used")


def _position(index: int, count: int, reason) -> str:
    return f"statement {index}: {reason}" if count > 1 else str(reason)


def record_statement(
    *, user, statement: dict, base: str, kinds: tuple[str, ...] = PLAYER_KINDS
) -> XAPIStatement:
    """Validate, store and apply one statement in one transaction. Raises StatementError."""
    return record_statements(user=user, statements=[statement], base=base, kinds=kinds)[0]


# Time on one try of a native quiz. The lesson page's form carries the moment it was served
# (`started`, seconds since 1970); the try lasted from then to the answer. A start in the
# future, or more than a day old (a page kept in a cache, or a forged value), says nothing:
# no time is recorded. A longer try than QUIZ_SECONDS_PER_QUESTION per question (a tab
# left open) counts as that much, at least QUIZ_MIN_ALLOWANCE.
QUIZ_SECONDS_PER_QUESTION = 5 * 60
QUIZ_MIN_ALLOWANCE = 10 * 60
QUIZ_TIME_NOT_BELIEVED = 24 * 60 * 60


def seconds_since(started, *, now=None) -> float | None:
    """Seconds from a start time sent by the page (seconds since 1970) to now; None if the
    value is not a finite number."""
    try:
        start = float(str(started).strip())
    except (TypeError, ValueError):
        return None
    if not math.isfinite(start):
        return None
    return (now or timezone.now()).timestamp() - start


def quiz_seconds(seconds, *, questions: int) -> int | None:
    """The time recorded for one try: whole seconds within the bounds above, or None."""
    if seconds is None or isinstance(seconds, bool):
        return None
    try:
        seconds = float(seconds)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(seconds) or seconds < 0 or seconds > QUIZ_TIME_NOT_BELIEVED:
        return None
    allowance = max(QUIZ_MIN_ALLOWANCE, QUIZ_SECONDS_PER_QUESTION * questions)
    return round(min(seconds, allowance))


def question_ids(quiz) -> list[str]:
    """A sub-content id per question: the question's own block id where the lesson stores
    one (a lesson saved in the editor), otherwise its number ("q1", "q2"...)."""
    ids = []
    for index, child in enumerate(getattr(quiz["questions"], "bound_blocks", [])):
        original = getattr(child, "original_id", None)
        ids.append(original if original else f"q{index + 1}")
    return ids or [f"q{index + 1}" for index in range(len(quiz["questions"]))]


@dataclass
class QuizResult:
    score: float  # 0..1
    correct: int
    total: int
    passed: bool | None  # None when the quiz has no pass mark
    questions: list[bool] = field(default_factory=list)
    statement: XAPIStatement | None = None


def submit_quiz(
    *, user, lesson: LessonPage, block_id: str, answers: dict, base: str, seconds=None
) -> QuizResult:
    """Grade a native quiz on the server, record it as xAPI statements, update progress.

    One statement for the quiz (score, pass, and the time spent: ``seconds`` as the page
    reports it, bounded by quiz_seconds) and one per question (right or wrong, labelled with
    the question), as H5P reports the questions of a Question Set: the class report counts
    the questions most students got wrong from them.
    """
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
    now = timezone.now().isoformat()
    iri = activity_iri(base, lesson, block_id)
    statement = {
        "verb": {"id": ADL + "answered", "display": {"en-US": "answered"}},
        "object": {
            "id": iri,
            "objectType": "Activity",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
        },
        "result": {
            "score": {"min": 0, "max": total, "raw": correct, "scaled": round(score, 4)},
            "completion": True,
            "response": str(response),
        },
        "timestamp": now,
    }
    if passed is not None:
        statement["result"]["success"] = passed
    spent = quiz_seconds(seconds, questions=total)
    if spent is not None:
        statement["result"]["duration"] = f"PT{spent}S"
    questions = [
        {
            "verb": {"id": ADL + "answered", "display": {"en-US": "answered"}},
            "object": {
                "id": f"{iri}?subContentId={question_id}",
                "objectType": "Activity",
                "definition": {
                    "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                    "interactionType": "choice",
                    "name": {"und": str(question["question"])},
                },
            },
            "result": {"success": verdict, "response": str(response[str(index)])},
            "timestamp": now,
        }
        for index, (question, question_id, verdict) in enumerate(
            zip(quiz["questions"], question_ids(quiz), verdicts, strict=True)
        )
    ]
    try:
        stored = record_statements(
            user=user, statements=[statement, *questions], base=base, kinds=("quiz",)
        )[0]
    except StatementError as exc:
        raise ProgressError(str(exc))
    ActivityProgress.objects.filter(user=user, lesson=lesson, block_id=block_id).update(
        last_answers=response
    )
    return QuizResult(score, correct, total, passed, verdicts, stored)
