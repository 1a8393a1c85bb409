"""Classes and assignments: the only code that writes ClassGroup, ClassMembership, Assignment.

Students are accounts without email made by their teacher: a username folded from the name
plus a number, and a simple password a child can type (two short words and two digits).
"""

import csv
import io
import re
import secrets
import uuid
import zipfile
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from courses.models import Assignment, ClassGroup, ClassMembership, CoursePage, LessonPage
from courses.training.progress import ProgressError, enrol
from libraries.access import forget_memberships
from libraries.models import Library, Membership, Role
from libraries.network.audit import log_change
from training_site.archives import ArchiveRefused, ZipLimits, open_zip
from training_site.text import folded_words, nfc

MAX_ROWS = 200
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# A class list in XLSX: a few dozen entries unpacking to a few MB at most; a spreadsheet that
# unpacks to more (one 1.9 GB shared string in a 1.9 MB file) is refused before openpyxl reads it.
XLSX_LIMITS = ZipLimits(
    max_upload=MAX_UPLOAD_BYTES, max_entries=200, max_total=20 * 1024 * 1024, max_ratio=100
)
MAX_NAME_LENGTH = 150

# Short, unaccented Vietnamese words a child reads easily.
_WORDS = (
    "ao ba be bo ca cam cay chim cho com da dao den dua ga gio ha hoa khe la lua mai meo"
    " mua my na nam nho nui oi que ran rau sao sen song suoi tao thu tre trang vai vit xoai"
)
PASSWORD_WORDS = tuple(_WORDS.split())

# The staff audit log (libraries/network/audit.py), labels in courses/wagtail_hooks.py. Every
# entry carries the class's school library: its staff read it. Never a password.
CLASS_CREATE_ACTION = "courses.class.create"
CLASS_ARCHIVE_ACTION = "courses.class.archive"
CLASS_REASSIGN_ACTION = "courses.class.reassign"
STUDENT_CREATE_ACTION = "courses.student.create"
STUDENT_ADD_ACTION = "courses.student.add"
STUDENT_MOVE_ACTION = "courses.student.move"
STUDENT_RESET_ACTION = "courses.student.password_reset"
ASSIGNMENT_CREATE_ACTION = "courses.assignment.create"
# Downloads of personal data of the courses side (class reports, login cards, the network
# table): log_export with this action, on the library whose people the file holds.
EXPORT_ACTION = "courses.export"


class ClassError(Exception):
    """A request the rules refuse; the message can be shown to the teacher."""


@dataclass
class RowError:
    row: int  # 1-based line or spreadsheet row
    value: str
    message: str


@dataclass
class CreatedStudent:
    row: int
    name: str
    user: object
    password: str


@dataclass
class BulkReport:
    created: list[CreatedStudent] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- names, usernames, passwords -----------------------------------------------------------


def username_base(name: str) -> str:
    """Given name plus the initials of the others: "Nguyễn Văn An" -> "annv"."""
    words = folded_words(name).split()
    if not words:
        return "hs"
    base = words[-1] + "".join(w[0] for w in words[:-1])
    return base[:20]


def simple_password() -> str:
    return (
        secrets.choice(PASSWORD_WORDS)
        + secrets.choice(PASSWORD_WORDS)
        + f"{secrets.randbelow(100):02d}"
    )


def _unique_usernames(bases: list[str]) -> list[str]:
    """One username per base, numbered from 1, avoiding existing ones (one query)."""
    User = get_user_model()
    condition = Q(pk__in=[])
    for base in set(bases):
        condition |= Q(username__startswith=base)
    taken = set(User.objects.filter(condition).values_list("username", flat=True))
    result = []
    for base in bases:
        number = 1
        while f"{base}{number}" in taken:
            number += 1
        name = f"{base}{number}"
        taken.add(name)
        result.append(name)
    return result


# --- reading lists of names ------------------------------------------------------------------


def rows_from_text(text: str) -> list[tuple[int, str]]:
    """One name per line; numbered lines, blank ones included so errors name the line."""
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1)]


def rows_from_upload(upload) -> list[tuple[int, str]]:
    """Names from the first column of a CSV or XLSX file (a header "name"/"họ tên" is skipped).

    Checked before anything is written: size, type, and readability. Raises ClassError.
    """
    if upload.size > MAX_UPLOAD_BYTES:
        raise ClassError(_("The file is too large (at most 2 MB)."))
    filename = (upload.name or "").lower()
    head = upload.read(4)
    upload.seek(0)
    if filename.endswith(".xlsx"):
        if head != b"PK\x03\x04":
            raise ClassError(_("This is not an Excel (.xlsx) file."))
        values = _xlsx_first_column(upload)
    elif filename.endswith(".csv") or filename.endswith(".txt"):
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ClassError(_("The CSV file must be saved as UTF-8."))
        values = [
            (i, (row[0] if row else "").strip())
            for i, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        ]
    else:
        raise ClassError(_("Upload a .csv or .xlsx file."))
    if values and folded_words(values[0][1]) in {"name", "ho ten", "ho va ten", "ten"}:
        values = values[1:]
    return values


def _xlsx_first_column(upload) -> list[tuple[int, str]]:
    try:
        open_zip(upload, XLSX_LIMITS)[0].close()
    except ArchiveRefused as exc:
        raise ClassError(exc.message)
    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ClassError(_("The Excel file could not be read."))
    try:
        sheet = workbook.worksheets[0]
        values = []
        for index, row in enumerate(sheet.iter_rows(max_col=1, values_only=True), start=1):
            if index > MAX_ROWS + 1:
                break
            cell = row[0] if row else None
            values.append((index, "" if cell is None else str(cell).strip()))
        return values
    finally:
        workbook.close()


# --- services ------------------------------------------------------------------------------


@transaction.atomic
def create_class(*, library: Library, name: str, school_year: str, teacher, by=None) -> ClassGroup:
    """Create a class at a school library with its first teacher (`by`: who creates it, the
    teacher by default)."""
    name = " ".join(name.split())
    if not name:
        raise ClassError(_("Give the class a name."))
    if not re.fullmatch(r"\d{4}-\d{4}", school_year or ""):
        raise ClassError(_("Write the school year like 2026-2027."))
    if ClassGroup.objects.filter(library=library, school_year=school_year, name=name).exists():
        raise ClassError(_("This library already has a class with this name for that year."))
    class_group = ClassGroup.objects.create(library=library, name=name, school_year=school_year)
    class_group.teachers.add(teacher)
    log_change(
        class_group,
        CLASS_CREATE_ACTION,
        by=by or teacher,
        before={},
        after={
            "library": library.pk,
            "name": name,
            "school_year": school_year,
            "teachers": [teacher.pk],
        },
        library=library,
    )
    return class_group


def _enrol_in_class_work(class_group: ClassGroup, students, by, batch=None) -> None:
    """Enrol newcomers in the courses assigned to the whole class."""
    courses = {
        a.course_id: a.course
        for a in class_group.assignments.filter(students__isnull=True).select_related("course")
    }
    for student in students:
        for course in courses.values():
            enrol(user=student, course=course, by=by, batch=batch)


@transaction.atomic
def bulk_create_students(*, class_group: ClassGroup, rows: list[tuple[int, str]], by) -> BulkReport:
    """Create student accounts for a list of (row number, name); bad rows are reported.

    Bad rows: empty names, names too long, more than MAX_ROWS names, a name twice in the
    list, a name already in the class. Every good row gets an account, a student
    membership at the school and a place in the class.
    """
    if class_group.is_archived:
        raise ClassError(_("This class is archived."))
    report = BulkReport()
    User = get_user_model()
    existing = {
        folded_words(n)
        for n in User.objects.filter(
            class_memberships__class_group=class_group, class_memberships__left_at__isnull=True
        ).values_list("display_name", flat=True)
    }
    seen: dict[str, int] = {}
    good: list[tuple[int, str]] = []
    for row, raw in rows:
        name = " ".join(nfc(raw).split())
        key = folded_words(name)
        if not name or not key:
            report.errors.append(RowError(row, raw, _("The name is empty.")))
        elif len(name) > MAX_NAME_LENGTH:
            report.errors.append(RowError(row, name[:40], _("The name is too long.")))
        elif key in seen:
            report.errors.append(
                RowError(row, name, _("Same name as row %(row)s.") % {"row": seen[key]})
            )
        elif key in existing:
            report.errors.append(
                RowError(row, name, _("A student with this name is already in the class."))
            )
        elif len(good) >= MAX_ROWS:
            report.errors.append(
                RowError(row, name, _("Too many names: at most %(n)s at a time.") % {"n": MAX_ROWS})
            )
        else:
            seen[key] = row
            good.append((row, name))
    if not good:
        return report
    usernames = _unique_usernames([username_base(name) for _row, name in good])
    for (row, name), username in zip(good, usernames, strict=True):
        password = simple_password()
        user = User(username=username, display_name=name, email="")
        user.set_password(password)
        report.created.append(CreatedStudent(row, name, user, password))
    users = User.objects.bulk_create([c.user for c in report.created])
    # bulk_create sets primary keys on PostgreSQL and SQLite 3.35+; re-read to be sure.
    by_name = {u.username: u for u in User.objects.filter(username__in=usernames)}
    for created in report.created:
        created.user = by_name[created.user.username]
    del users
    Membership.objects.bulk_create(
        [
            Membership(user=c.user, library_id=class_group.library_id, role=Role.STUDENT)
            for c in report.created
        ]
    )
    ClassMembership.objects.bulk_create(
        [
            ClassMembership(
                student=c.user, class_group=class_group, library_id=class_group.library_id
            )
            for c in report.created
        ]
    )
    batch = uuid.uuid4()
    for created in report.created:
        log_change(
            created.user,
            STUDENT_CREATE_ACTION,
            by=by,
            before={},
            after={"username": created.user.username, "class": class_group.pk},
            library=class_group.library,
            batch=batch,
        )
    _enrol_in_class_work(class_group, [c.user for c in report.created], by, batch)
    return report


def _open_membership(class_group: ClassGroup, student) -> ClassMembership:
    """Insert the open membership; the database refuses a second open class here."""
    try:
        with transaction.atomic():
            return ClassMembership.objects.create(class_group=class_group, student=student)
    except IntegrityError:
        raise ClassError(
            _("This student is already in a class of this library. Move them instead.")
        )


def _ensure_in_class(class_group: ClassGroup, student) -> ClassMembership:
    membership = ClassMembership.objects.filter(
        class_group=class_group, student=student, left_at__isnull=True
    ).first()
    if membership is None:
        raise ClassError(_("This student is not in the class."))
    return membership


@transaction.atomic
def reset_password(*, class_group: ClassGroup, student, by=None, batch=None) -> str:
    """Give a student of the class a new simple password and return it. The audit entry
    says that it changed, never what it is."""
    _ensure_in_class(class_group, student)
    password = simple_password()
    student.set_password(password)
    student.save(update_fields=["password"])
    log_change(
        student,
        STUDENT_RESET_ACTION,
        by=by,
        before={},
        after={},
        library=class_group.library,
        batch=batch,
    )
    return password


@transaction.atomic
def reset_class_passwords(*, class_group: ClassGroup, by=None) -> list[tuple[str, str, str]]:
    """New simple passwords for every student of an open class: (name, username, password)."""
    if class_group.is_archived:
        raise ClassError(
            _("This class is archived: print login cards from the students' current class.")
        )
    batch = uuid.uuid4()
    return [
        (student.display_name or student.username, student.username,
         reset_password(class_group=class_group, student=student, by=by, batch=batch))
        for student in class_group.students()
    ]  # fmt: skip


@transaction.atomic
def move_student(*, student, from_class: ClassGroup, to_class: ClassGroup, by) -> ClassMembership:
    """Move a student to another open class of the same library."""
    if from_class.library_id != to_class.library_id:
        raise ClassError(_("Students can only move between classes of the same library."))
    if to_class.is_archived:
        raise ClassError(_("The target class is archived."))
    if from_class.pk == to_class.pk:
        raise ClassError(_("The student is already in this class."))
    membership = _ensure_in_class(from_class, student)
    membership.left_at = timezone.now()
    membership.save(update_fields=["left_at"])
    moved = _open_membership(to_class, student)
    batch = uuid.uuid4()
    log_change(
        student,
        STUDENT_MOVE_ACTION,
        by=by,
        before={"class": from_class.pk},
        after={"class": to_class.pk},
        library=from_class.library,
        batch=batch,
    )
    _enrol_in_class_work(to_class, [student], by, batch)
    return moved


@transaction.atomic
def add_existing_student(*, class_group: ClassGroup, student, by) -> ClassMembership:
    """Put an existing account in the class (it must not be in another open class here)."""
    if ClassMembership.objects.filter(
        student=student, library_id=class_group.library_id, left_at__isnull=True
    ).exists():
        raise ClassError(
            _("This student is already in a class of this library. Move them instead.")
        )
    Membership.objects.get_or_create(
        user=student, library_id=class_group.library_id, role=Role.STUDENT
    )
    forget_memberships(student)
    membership = _open_membership(class_group, student)
    batch = uuid.uuid4()
    log_change(
        student,
        STUDENT_ADD_ACTION,
        by=by,
        before={"class": None},
        after={"class": class_group.pk},
        library=class_group.library,
        batch=batch,
    )
    _enrol_in_class_work(class_group, [student], by, batch)
    return membership


def _archive(classes: list[ClassGroup], now, by, batch=None) -> None:
    """Archive open classes: each keeps its report (students() reads the memberships closed
    at archived_at); the students are free to join next year's classes. One audit entry per
    class."""
    class_ids = [c.pk for c in classes]
    ClassGroup.objects.filter(pk__in=class_ids).update(archived_at=now)
    ClassMembership.objects.filter(class_group_id__in=class_ids, left_at__isnull=True).update(
        left_at=now
    )
    for class_group in classes:
        class_group.archived_at = now
        log_change(
            class_group,
            CLASS_ARCHIVE_ACTION,
            by=by,
            before={"archived_at": None},
            after={"archived_at": now.isoformat()},
            library=class_group.library,
            batch=batch,
        )


@transaction.atomic
def archive_class(*, class_group: ClassGroup, by=None) -> ClassGroup:
    """End of the school year: the class is kept for reports; its students are free to join
    next year's class. Their accounts and progress stay."""
    locked = ClassGroup.objects.select_for_update().get(pk=class_group.pk)
    if locked.is_archived:
        class_group.archived_at = locked.archived_at
        return class_group
    _archive([class_group], timezone.now(), by)
    return class_group


@transaction.atomic
def archive_school_year(*, library: Library, school_year: str, by) -> list[ClassGroup]:
    """Archive every open class of a school year at a library in one step; returns them.

    Students keep their accounts, memberships and progress; the classes leave the teachers'
    lists of open classes and keep their reports. Archiving a year again finds nothing open
    and changes nothing. Who may do it is asked by the caller
    (courses/classes/access.py: administers_classes_at).
    """
    if not re.fullmatch(r"\d{4}-\d{4}", school_year or ""):
        raise ClassError(_("Write the school year like 2026-2027."))
    classes = list(
        ClassGroup.objects.select_for_update()
        .filter(library=library, school_year=school_year, archived_at__isnull=True)
        .order_by("pk")
    )
    if not classes:
        raise ClassError(
            _("%(library)s has no open class in the school year %(year)s.")
            % {"library": library.name, "year": school_year}
        )
    _archive(classes, timezone.now(), by, batch=uuid.uuid4())
    return classes


def eligible_teachers(library: Library):
    """Accounts that may teach a class of `library`: its teachers and library admins."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__library=library,
            memberships__library__is_active=True,
            memberships__role__in=(Role.TEACHER, Role.LIBRARY_ADMIN),
        )
        .distinct()
        .order_by("display_name", "username")
    )


@transaction.atomic
def reassign_class(*, class_group: ClassGroup, teacher, by) -> ClassGroup:
    """Give an open class to another teacher of its library: they become its only teacher.

    A teacher of another library is refused, and nothing changes. Who may reassign is asked
    by the caller (courses/classes/access.py: administers_classes_at).
    """
    locked = (
        ClassGroup.objects.select_for_update(of=("self",))
        .select_related("library")
        .get(pk=class_group.pk)
    )
    if locked.is_archived:
        raise ClassError(_("This class is archived."))
    if not eligible_teachers(locked.library).filter(pk=teacher.pk).exists():
        raise ClassError(
            _("%(name)s does not teach at %(library)s: choose a teacher of this library.")
            % {"name": teacher.get_full_name() or teacher.username, "library": locked.library.name}
        )
    before = sorted(locked.teachers.values_list("pk", flat=True))
    locked.teachers.set([teacher])
    if before != [teacher.pk]:
        log_change(
            locked,
            CLASS_REASSIGN_ACTION,
            by=by,
            before={"teachers": before},
            after={"teachers": [teacher.pk]},
            library=locked.library,
        )
    return locked


@transaction.atomic
def assign(
    *,
    class_group: ClassGroup,
    course: CoursePage,
    lesson: LessonPage | None = None,
    students=None,
    due_date=None,
    by,
) -> Assignment:
    """Give a course (or one of its lessons) to the class or to some of its students, and
    enrol them in the course."""
    if class_group.is_archived:
        raise ClassError(_("This class is archived."))
    if not course.live:
        raise ClassError(_("This course is not published."))
    if lesson is not None and not lesson.path.startswith(course.path):
        raise ClassError(_("This lesson does not belong to the course."))
    members = list(
        get_user_model().objects.filter(
            class_memberships__class_group=class_group, class_memberships__left_at__isnull=True
        )
    )
    member_ids = {m.pk for m in members}
    chosen = list(students or [])
    if any(s.pk not in member_ids for s in chosen):
        raise ClassError(_("Only students of this class can be chosen."))
    assignment = Assignment.objects.create(
        class_group=class_group, course=course, lesson=lesson, due_date=due_date, created_by=by
    )
    if chosen:
        assignment.students.set(chosen)
    batch = uuid.uuid4()
    log_change(
        assignment,
        ASSIGNMENT_CREATE_ACTION,
        by=by,
        before={},
        after={
            "class": class_group.pk,
            "course": course.pk,
            "lesson": lesson.pk if lesson is not None else None,
            "students": sorted(s.pk for s in chosen),
            "due_date": due_date.isoformat() if due_date else None,
        },
        library=class_group.library,
        batch=batch,
    )
    for student in chosen or members:
        try:
            enrol(user=student, course=course, by=by, batch=batch)
        except ProgressError as exc:
            raise ClassError(str(exc))
    return assignment
