"""Read-only figures for class reports and library and network dashboards.

Every selector runs a fixed number of queries whatever the data size: counts are SQL
aggregates (annotate / Count / Max / Subquery); Python only reshapes rows already bounded
by one class, one library's staff, or the libraries of a network.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from courses.classes.access import network_libraries
from courses.models import (
    ActivityProgress,
    Assignment,
    Audience,
    Certificate,
    ClassGroup,
    ClassMembership,
    CoursePage,
    Enrollment,
    LessonPage,
    LessonProgress,
    LibraryTrainingFigures,
    XAPIStatement,
)
from libraries.access import STAFF_ROLES
from libraries.models import DigitalLoan, Library, Loan, Membership
from training_site.text import normalise_name

NOT_STARTED, IN_PROGRESS, COMPLETED = "not_started", "in_progress", "completed"
DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def duration_seconds(value) -> float:
    """Seconds in an ISO 8601 duration as H5P sends it ("PT1M30.5S"); 0 if unreadable."""
    match = DURATION.match(value or "") if isinstance(value, str) else None
    if not match:
        return 0.0
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return (
        parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60
    ) + parts.get("s", 0)


# --- class report --------------------------------------------------------------------------


@dataclass
class Cell:
    status: str = NOT_STARTED
    score: float | None = None  # 0..1
    attempts: int = 0
    seconds: float = 0.0

    @property
    def percent(self) -> int | None:
        return None if self.score is None else round(self.score * 100)

    @property
    def minutes(self) -> int:
        return round(self.seconds / 60)


@dataclass
class Column:
    lesson: LessonPage
    course: CoursePage


@dataclass
class StudentRow:
    student: object
    cells: list[Cell]
    completed: int = 0
    overdue: list = field(default_factory=list)


@dataclass
class WrongQuestion:
    lesson: LessonPage
    label: str
    wrong: int  # students with at least one wrong answer
    answered: int  # students who answered


@dataclass
class ClassReport:
    class_group: ClassGroup
    columns: list[Column]
    rows: list[StudentRow]
    assignments: list[Assignment]
    overdue: list[tuple]  # (student, assignment)
    wrong_questions: list[WrongQuestion]


def class_report(class_group: ClassGroup, today: date | None = None) -> ClassReport:
    """Student x lesson matrix of the assigned work, overdue work and most-missed questions.

    Seven queries: students, assignments (+ chosen students), lessons, lesson progress,
    time spent, wrong answers, question labels.
    """
    today = today or timezone.localdate()
    students = list(class_group.students().only("pk", "username", "display_name"))
    student_ids = [s.pk for s in students]
    assignments = list(
        class_group.assignments.select_related("course", "lesson").prefetch_related("students")
    )
    course_paths = {a.course.path: a.course for a in assignments if a.lesson_id is None}
    single = {a.lesson_id for a in assignments if a.lesson_id is not None}
    lesson_filter = Q(pk__in=single)
    for path in course_paths:
        lesson_filter |= Q(path__startswith=path, depth=len(path) // LessonPage.steplen + 1)
    lessons = (
        list(LessonPage.objects.live().filter(lesson_filter).order_by("path"))
        if assignments
        else []
    )
    courses = {a.course.path: a.course for a in assignments}
    columns = [
        Column(lesson, courses.get(lesson.path[: -LessonPage.steplen])) for lesson in lessons
    ]
    lesson_ids = [c.lesson.pk for c in columns]
    index = {lesson_id: i for i, lesson_id in enumerate(lesson_ids)}
    cells = {s.pk: [Cell() for _ in columns] for s in students}
    if student_ids and lesson_ids:
        for p in LessonProgress.objects.filter(user_id__in=student_ids, lesson_id__in=lesson_ids):
            cell = cells[p.user_id][index[p.lesson_id]]
            cell.status = COMPLETED if p.completed_at else IN_PROGRESS
            cell.score = p.best_score
            cell.attempts = p.attempts
        durations = XAPIStatement.objects.filter(
            user_id__in=student_ids, lesson_id__in=lesson_ids, raw__result__duration__isnull=False
        ).values_list("user_id", "lesson_id", "raw__result__duration")
        for user_id, lesson_id, value in durations:
            cells[user_id][index[lesson_id]].seconds += duration_seconds(value)
    rows = []
    overdue = []
    for student in students:
        row = StudentRow(student, cells[student.pk])
        row.completed = sum(1 for c in row.cells if c.status == COMPLETED)
        rows.append(row)
    for assignment in assignments:
        if not assignment.due_date or assignment.due_date >= today:
            continue
        chosen = {s.pk for s in assignment.students.all()}
        targets = [i for i in range(len(columns)) if _covers(assignment, columns[i])]
        for row in rows:
            if chosen and row.student.pk not in chosen:
                continue
            if any(row.cells[i].status != COMPLETED for i in targets):
                row.overdue.append(assignment)
                overdue.append((row.student, assignment))
    return ClassReport(
        class_group,
        columns,
        rows,
        assignments,
        overdue,
        most_missed_questions(student_ids, lessons),
    )


def _covers(assignment: Assignment, column: Column) -> bool:
    if assignment.lesson_id:
        return column.lesson.pk == assignment.lesson_id
    return column.course is not None and column.course.pk == assignment.course_id


def most_missed_questions(student_ids, lessons, limit=10) -> list[WrongQuestion]:
    """Questions (xAPI objects, H5P sub-content included) the most students answered wrong.

    A native quiz counts by its questions (courses/xapi/services.py: submit_quiz records one
    statement per question); its statement for the whole quiz is not a question.
    """
    if not student_ids or not lessons:
        return []
    by_id = {lesson.pk: lesson for lesson in lessons}
    quizzes = [
        spec.block_id
        for lesson in lessons
        for spec in lesson.activity_specs()
        if spec.kind == "quiz"
    ]
    answered = XAPIStatement.objects.filter(
        user_id__in=student_ids, lesson_id__in=list(by_id), success__isnull=False
    ).exclude(block_id__in=quizzes, sub_content_id="")
    groups = list(
        answered.values("lesson_id", "object_id")
        .annotate(
            wrong=Count("user_id", filter=Q(success=False), distinct=True),
            answered=Count("user_id", distinct=True),
        )
        .filter(wrong__gt=0)
        .order_by("-wrong", "lesson_id", "object_id")[:limit]
    )
    if not groups:
        return []
    labels = {}
    condition = Q(pk__in=[])
    for g in groups:
        condition |= Q(lesson_id=g["lesson_id"], object_id=g["object_id"])
    for lesson_id, object_id, name, description in answered.filter(condition).values_list(
        "lesson_id",
        "object_id",
        "raw__object__definition__name",
        "raw__object__definition__description",
    ):
        text = _language_text(description) or _language_text(name)
        if text:
            labels.setdefault((lesson_id, object_id), text)
    return [
        WrongQuestion(
            by_id[g["lesson_id"]],
            labels.get((g["lesson_id"], g["object_id"]), g["object_id"].rsplit("/", 1)[-1]),
            g["wrong"],
            g["answered"],
        )
        for g in groups
    ]


def _language_text(value) -> str:
    if isinstance(value, dict):
        for key in ("vi-VN", "vi", "en-US", "en"):
            if value.get(key):
                return str(value[key])[:200]
        for text in value.values():
            return str(text)[:200]
    return ""


def student_detail(class_group: ClassGroup, student) -> dict:
    """One student's enrolments, lessons and activities in the class's assigned courses."""
    course_ids = list(class_group.assignments.values_list("course_id", flat=True).distinct())
    enrollments = list(
        Enrollment.objects.filter(user=student, course_id__in=course_ids).select_related("course")
    )
    lessons = list(
        LessonProgress.objects.filter(user=student, course_id__in=course_ids)
        .select_related("lesson")
        .order_by("lesson__path")
    )
    activities = defaultdict(list)
    for a in ActivityProgress.objects.filter(user=student, lesson__in=[p.lesson for p in lessons]):
        activities[a.lesson_id].append(a)
    return {
        "enrollments": enrollments,
        "lessons": [(p, activities.get(p.lesson_id, [])) for p in lessons],
    }


# --- library dashboard ---------------------------------------------------------------------


@dataclass
class StaffRow:
    membership: Membership
    courses: list  # [(course, enrollment or None, certificate or None)]

    @property
    def completed(self) -> int:
        return sum(1 for _c, e, _cert in self.courses if e is not None and e.completed_at)


def required_courses():
    """The librarians' transition programme: published courses for librarians."""
    return CoursePage.objects.live().filter(audience=Audience.LIBRARIANS).order_by("path")


def library_dashboard(library: Library, months: int = 12) -> dict:
    """Staff training, class summaries, figures by course and over time, circulation."""
    courses = list(required_courses().only("pk", "title", "path"))
    staff = list(
        Membership.objects.filter(library=library, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("user__display_name", "user__username")
    )
    user_ids = {m.user_id for m in staff}
    enrollments = {
        (e.user_id, e.course_id): e
        for e in Enrollment.objects.filter(user_id__in=user_ids, course__in=courses)
    }
    certificates = {
        (c.user_id, c.course_id): c
        for c in Certificate.objects.filter(
            user_id__in=user_ids, course__in=courses, revoked_at__isnull=True
        )
    }
    seen = set()
    staff_rows = []
    for m in staff:  # one row per person even with two staff roles
        if m.user_id in seen:
            continue
        seen.add(m.user_id)
        staff_rows.append(
            StaffRow(
                m,
                [
                    (c, enrollments.get((m.user_id, c.pk)), certificates.get((m.user_id, c.pk)))
                    for c in courses
                ],
            )
        )

    open_members = ClassMembership.objects.filter(class_group=OuterRef("pk"), left_at__isnull=True)
    assigned = Enrollment.objects.filter(
        user__class_memberships__class_group=OuterRef("pk"),
        user__class_memberships__left_at__isnull=True,
        course__assignments__class_group=OuterRef("pk"),
    )
    classes = list(
        ClassGroup.objects.active()
        .filter(library=library)
        .annotate(
            student_count=_subcount(open_members, "class_group"),
            assignment_count=Count("assignments", distinct=True),
            enrolments=_subcount(assigned, "user__class_memberships__class_group", "pk", True),
            completions=_subcount(
                assigned.filter(completed_at__isnull=False),
                "user__class_memberships__class_group",
                "pk",
                True,
            ),
        )
        .prefetch_related("teachers")
        .order_by("name")
    )
    for c in classes:
        c.completion_rate = _rate(c.completions, c.enrolments)

    here = Enrollment.objects.filter(library=library)
    totals = here.aggregate(
        learners=Count("user_id", distinct=True),
        enrolments=Count("pk"),
        completions=Count("pk", filter=Q(completed_at__isnull=False)),
        last_activity=Max("last_activity_at"),
    )
    totals["certificates"] = Certificate.objects.filter(
        library=library, revoked_at__isnull=True
    ).count()
    totals["completion_rate"] = _rate(totals["completions"], totals["enrolments"])
    by_course = list(
        here.values("course_id", "course__title")
        .annotate(
            enrolments=Count("pk"), completions=Count("pk", filter=Q(completed_at__isnull=False))
        )
        .order_by("-enrolments", "course__title")[:20]
    )
    return {
        "library": library,
        "courses": courses,
        "staff_rows": staff_rows,
        "classes": classes,
        "totals": totals,
        "by_course": by_course,
        "by_month": completions_by_month(here, months),
        "circulation": circulation_figures(library),
        "digital": digital_figures(library),
    }


def _subcount(queryset, group_field, count_field="pk", distinct=False):
    return Coalesce(
        Subquery(
            queryset.order_by()
            .values(group_field)
            .annotate(n=Count(count_field, distinct=distinct))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _rate(part, whole) -> int | None:
    return round(100 * part / whole) if whole else None


def month_starts(months: int, today: date | None = None) -> list[date]:
    today = today or timezone.localdate()
    first = today.replace(day=1)
    result = [first]
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
        result.append(first)
    return list(reversed(result))


def completions_by_month(enrollments, months: int = 12) -> list[tuple[date, int]]:
    """Completions per calendar month over the last `months` months (zeros included)."""
    starts = month_starts(months)
    since = timezone.make_aware(timezone.datetime.combine(starts[0], timezone.datetime.min.time()))
    counts = {
        (row["month"].date() if hasattr(row["month"], "date") else row["month"]): row["n"]
        for row in enrollments.filter(completed_at__gte=since)
        .annotate(month=TruncMonth("completed_at"))
        .order_by()
        .values("month")
        .annotate(n=Count("pk"))
    }
    return [(start, counts.get(start, 0)) for start in starts]


def circulation_figures(library: Library) -> dict:
    """Loans made at this library this month and the distinct readers who made them."""
    this_month = Q(checked_out_at__gte=month_start())
    return Loan.objects.filter(library=library).aggregate(
        loans_this_month=Count("pk", filter=this_month),
        active_readers=Count("patron", filter=this_month, distinct=True),
    )


def month_start():
    """The first instant of this month, local time."""
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def digital_figures(library: Library) -> dict:
    """E-book loans made at this library this month and the distinct readers who made them
    (one query: DigitalLoan.objects.counts_by_library)."""
    found = DigitalLoan.objects.counts_by_library([library.pk], since=month_start())
    counts = found.get(library.pk, {})
    return {"loans_this_month": counts.get("loans", 0), "readers": counts.get("readers", 0)}


# --- network dashboard ---------------------------------------------------------------------

NETWORK_ORDERS = {
    "name": ("name",),
    "staff_trained": ("-staff_trained", "name"),
    "learners": ("-learners", "name"),
    "completions": ("-completions", "name"),
    "completion_rate": ("-completion_rate", "name"),
    "certificates": ("-certificate_count", "name"),
    "last_activity": ("-last_activity", "name"),
}


@dataclass
class NetworkDashboard:
    rows: list
    totals: dict
    districts: list
    district: Library | None
    course: CoursePage | None
    order: str
    # This month's loans in the libraries shown: print, e-books, distinct e-book readers.
    loans: dict = field(default_factory=dict)


def network_dashboard(user, district=None, course=None, order="name") -> NetworkDashboard:
    """One row per library the admin reaches: counts only, never a learner's name.

    Nine queries whatever the size of the network: the visible districts and libraries, the
    running totals (LibraryTrainingFigures), the latest activity (one index probe per
    library), one GROUP BY library_id each for certificates, trained staff, this month's
    print loans and e-book loans (with their readers), and the network's distinct e-book
    readers this month. Rows
    are merged and sorted in Python: there are as many as libraries.
    """
    visible = network_libraries(user).filter(is_active=True)
    libraries = visible
    if district is not None:
        libraries = libraries.filter(path__startswith=district.path)
    rows = list(libraries.only("pk", "code", "name", "kind", "path", "parent_id"))
    districts = list(visible.filter(kind=Library.Kind.DISTRICT).order_by("name"))
    scope = Q(library__in=libraries.values("pk"))
    certificates = Certificate.objects.filter(scope, revoked_at__isnull=True)
    trained = Membership.objects.filter(
        scope,
        role__in=STAFF_ROLES,
        user__enrollments__completed_at__isnull=False,
        user__enrollments__course__audience=Audience.LIBRARIANS,
    )
    latest = Enrollment.objects.filter(library=OuterRef("pk"), last_activity_at__isnull=False)
    if course is not None:
        certificates = certificates.filter(course=course)
        trained = trained.filter(user__enrollments__course=course)
        latest = latest.filter(course=course)
    # Running totals (LibraryTrainingFigures) instead of a scan of every enrolment; the
    # latest activity is one index probe per library.
    figures = {
        f.library_id: f
        for f in LibraryTrainingFigures.objects.filter(scope, course=course).only(
            "library_id", "learners", "enrolments", "completions"
        )
    }
    last_seen = dict(
        libraries.annotate(
            last=Subquery(latest.order_by("-last_activity_at").values("last_activity_at")[:1])
        ).values_list("pk", "last")
    )
    certified = dict(
        certificates.order_by()
        .values("library_id")
        .annotate(n=Count("pk"))
        .values_list("library_id", "n")
    )
    staff = dict(
        trained.order_by()
        .values("library_id")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("library_id", "n")
    )
    # Loans this month, print and digital: one GROUP BY library_id each.
    since = month_start()
    print_loans = dict(
        Loan.objects.filter(scope, checked_out_at__gte=since)
        .order_by()
        .values("library_id")
        .annotate(n=Count("pk"))
        .values_list("library_id", "n")
    )
    digital = DigitalLoan.objects.counts_by_library(libraries.values("pk"), since=since)
    by_pk = {d.pk: d for d in districts}
    for row in rows:
        row.loans_this_month = print_loans.get(row.pk, 0)
        row.digital_loans_this_month = digital.get(row.pk, {}).get("loans", 0)
        row.digital_readers = digital.get(row.pk, {}).get("readers", 0)
        found = figures.get(row.pk)
        row.learners = found.learners if found else 0
        row.enrolments = found.enrolments if found else 0
        row.completions = found.completions if found else 0
        row.last_activity = last_seen.get(row.pk)
        row.certificate_count = certified.get(row.pk, 0)
        row.staff_trained = staff.get(row.pk, 0)
        row.rate = _rate(row.completions, row.enrolments)
        row.completion_rate = None if not row.enrolments else 100 * row.completions / row.enrolments
        row.district = next(
            (by_pk[int(p)] for p in row.path.strip("/").split("/") if int(p) in by_pk), None
        )
    order = order if order in NETWORK_ORDERS else "name"
    rows.sort(key=lambda r: (normalise_name(r.name), r.pk))
    for key in reversed(NETWORK_ORDERS[order]):
        name = key.lstrip("-")
        if name == "name":
            continue
        present = [r for r in rows if getattr(r, name) is not None]
        missing = [r for r in rows if getattr(r, name) is None]
        present.sort(key=lambda r, n=name: getattr(r, n), reverse=key.startswith("-"))
        rows = present + missing
    totals = {
        key: sum(getattr(r, key) for r in rows)
        for key in ("staff_trained", "learners", "enrolments", "completions", "certificate_count")
    }
    totals["certificates"] = totals.pop("certificate_count")
    totals["rate"] = _rate(totals["completions"], totals["enrolments"])
    # A reader who borrowed e-books at two libraries is one reader of the network.
    loans = {
        "loans_this_month": sum(r.loans_this_month for r in rows),
        "digital_loans_this_month": sum(r.digital_loans_this_month for r in rows),
        "digital_readers": DigitalLoan.objects.filter(
            library__in=libraries.values("pk"), borrowed_at__gte=since
        ).aggregate(n=Count("patron", distinct=True))["n"],
    }
    return NetworkDashboard(rows, totals, districts, district, course, order, loans)


# --- a student's own work ------------------------------------------------------------------
