"""Demo classes: a class at THCSA (and THPTC) taught by `giaovien`, with students, assignments
of the demo courses and some progress, so the class report and the dashboards show real
figures. ``load(stdout=None)`` is idempotent: it builds each part only when it is missing.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from courses.classes import services as classes
from courses.classes.forms import current_school_year
from courses.models import Audience, ClassGroup, ClassMembership, CoursePage, Enrollment
from courses.training.progress import enrol, mark_viewed, quiz_block_value
from courses.xapi.services import submit_quiz
from libraries.models import Library, Membership, Role
from libraries.network.demo import DEMO_PASSWORD

DEMO_BASE = "http://localhost:8000"
CLASSES = {
    "THCSA": (
        "6A",
        [
            "Nguyễn Minh Anh",
            "Trần Gia Bảo",
            "Lê Thu Hà",
            "Phạm Quốc Huy",
            "Võ Ngọc Lan",
            "Đặng Tuấn Kiệt",
        ],
    ),
    "THPTC": ("10A1", ["Bùi Thanh Tâm", "Hồ Mỹ Linh", "Đỗ Khánh Nam", "Ngô Phương Thảo"]),
}


def _say(stdout, text):
    if stdout is not None:
        stdout.write(text + "\n")


def _answers(quiz, right: bool) -> dict:
    answers = {}
    for index, question in enumerate(quiz["questions"]):
        correct = [i for i, c in enumerate(question["choices"]) if c["correct"]]
        wrong = [i for i, c in enumerate(question["choices"]) if not c["correct"]][:1]
        answers[index] = correct if right or index else (wrong or correct)
    return answers


def _work_through(student, course, lessons_done: int, right: bool) -> None:
    """Open the first lessons and answer their quizzes (through the real services)."""
    for lesson in list(course.lessons())[:lessons_done]:
        mark_viewed(user=student, lesson=lesson)
        for spec in lesson.activity_specs():
            quiz = quiz_block_value(lesson, spec.block_id) if spec.kind == "quiz" else None
            if quiz is None:
                continue
            submit_quiz(
                user=student,
                lesson=lesson,
                block_id=spec.block_id,
                answers=_answers(quiz, right),
                base=DEMO_BASE,
            )


def _class_at(code, name, teacher, stdout):
    library = Library.objects.filter(code=code).first()
    if library is None:
        _say(stdout, f"  {code} missing: no class there")
        return None
    Membership.objects.get_or_create(user=teacher, library=library, role=Role.TEACHER)
    year = current_school_year()
    class_group = ClassGroup.objects.filter(library=library, name=name, school_year=year).first()
    if class_group is None:
        class_group = classes.create_class(
            library=library, name=name, school_year=year, teacher=teacher
        )
        _say(stdout, f"  class {name} at {code}")
    return class_group


@transaction.atomic
def load(stdout=None) -> None:
    User = get_user_model()
    teacher = User.objects.filter(username="giaovien").first()
    if teacher is None:
        _say(stdout, "Demo classes skipped: no demo teacher 'giaovien' (load the network first)")
        return
    student_courses = list(
        CoursePage.objects.live().filter(audience=Audience.STUDENTS).order_by("path")
    )
    for code, (name, names) in CLASSES.items():
        class_group = _class_at(code, name, teacher, stdout)
        if class_group is None:
            continue
        if not class_group.memberships.exists():
            report = classes.bulk_create_students(
                class_group=class_group, rows=list(enumerate(names, start=1)), by=teacher
            )
            for created in report.created:
                # Real classes keep the service's simple passwords; demo students share the
                # documented demo password (README.md, "Demo logins").
                created.user.set_password(DEMO_PASSWORD)
                created.user.save(update_fields=["password"])
                _say(stdout, f"  student {created.user.username} / {DEMO_PASSWORD}")
            demo_student = User.objects.filter(username="hocsinh").first()
            if (
                code == "THCSA"
                and demo_student
                and not ClassMembership.objects.filter(
                    student=demo_student, library=class_group.library, left_at__isnull=True
                ).exists()
            ):
                classes.add_existing_student(
                    class_group=class_group, student=demo_student, by=teacher
                )
        if not student_courses:
            _say(stdout, "  no published student course: no assignments")
            continue
        if class_group.assignments.exists():
            continue
        today = timezone.localdate()
        course = student_courses[0]
        classes.assign(
            class_group=class_group, course=course, due_date=today - timedelta(days=3), by=teacher
        )
        lessons = list(course.lessons())
        if len(lessons) > 1:
            classes.assign(
                class_group=class_group,
                course=course,
                lesson=lessons[-1],
                due_date=today + timedelta(days=14),
                by=teacher,
            )
        students = list(
            User.objects.filter(
                class_memberships__class_group=class_group, class_memberships__left_at__isnull=True
            ).order_by("pk")
        )
        for index, student in enumerate(students):
            done = (len(lessons), len(lessons), 1, 1, 0)[index % 5]
            _work_through(student, course, done, right=index % 3 != 2)
        _say(stdout, f"  {class_group.name}: assignments and progress for {len(students)} students")
    _staff_training(stdout)


def _staff_training(stdout) -> None:
    """Staff at the demo schools take the librarians' course: one finishes, others start."""
    course = CoursePage.objects.live().filter(audience=Audience.LIBRARIANS).order_by("path").first()
    if course is None:
        return
    staff = (
        Membership.objects.filter(
            library__code__in=list(CLASSES) + ["TVT", "HBT", "DDA"],
            role__in=[Role.LIBRARIAN, Role.LIBRARY_ADMIN],
        )
        .select_related("user")
        .order_by("pk")
    )
    for index, membership in enumerate(staff):
        if Enrollment.objects.filter(user=membership.user, course=course).exists():
            continue
        enrol(user=membership.user, course=course)
        lessons = len(list(course.lessons()))
        _work_through(membership.user, course, lessons if index % 2 == 0 else 1, right=True)
    _say(stdout, "  staff training progress")
