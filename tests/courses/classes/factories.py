"""A small network with a school, a teacher, a class and a two-lesson course, for class and
dashboard tests. Progress is written through the real services."""

from dataclasses import dataclass

from courses.classes import services as classes
from courses.models import ClassGroup, CoursePage, LessonPage
from courses.training.progress import enrol, mark_viewed
from courses.xapi.services import submit_quiz
from libraries.models import Library, Role
from tests.courses.training.factories import BASE, make_course, make_lesson, quiz_block
from tests.factories import LibraryFactory, member

RIGHT = {0: [1], 1: [0, 2]}  # both questions right
HALF = {0: [1], 1: [0]}  # first right, second wrong
WRONG = {0: [0], 1: [1]}


@dataclass
class Network:
    province: Library
    district: Library
    school: Library
    other_district: Library
    other_school: Library


def network() -> Network:
    province = LibraryFactory(code="TVT", name="Thư viện tỉnh", kind=Library.Kind.PROVINCIAL)
    district = LibraryFactory(
        code="HBT", name="Thư viện huyện Hòa Bình", kind=Library.Kind.DISTRICT, parent=province
    )
    school = LibraryFactory(code="THCSA", name="Trường THCS A", parent=district)
    other_district = LibraryFactory(
        code="DDA", name="Thư viện huyện Đa Đa", kind=Library.Kind.DISTRICT, parent=province
    )
    other_school = LibraryFactory(code="THCSB", name="Trường THCS B", parent=other_district)
    return Network(province, district, school, other_district, other_school)


def teacher_at(library, **kwargs):
    return member(library, Role.TEACHER, **kwargs)


def staff_at(library, role=Role.LIBRARY_ADMIN, **kwargs):
    return member(library, role, **kwargs)


def course_with_quizzes(title="Em học thư viện số", lessons=2, pass_mark=None, **fields):
    """A course whose lessons each hold one required quiz."""
    course = make_course(title=title, **fields)
    made = []
    for n in range(1, lessons + 1):
        block = quiz_block(pass_mark=pass_mark)
        made.append(make_lesson(course, title=f"Bài {n}", blocks=[block]))
    return course, made


def make_class(school, teacher, name="6A", year="2026-2027") -> ClassGroup:
    return classes.create_class(library=school, name=name, school_year=year, teacher=teacher)


def add_students(class_group, teacher, *names):
    report = classes.bulk_create_students(
        class_group=class_group, rows=list(enumerate(names, start=1)), by=teacher
    )
    assert not report.errors
    return [c.user for c in report.created]


def class_with_students(school, *names, name="6A", **teacher_fields):
    """A new teacher at `school` (UserFactory with `teacher_fields`), their class `name` and its
    students `names`, created by the bulk service: (teacher, class, students)."""
    teacher = teacher_at(school, **teacher_fields)
    class_group = make_class(school, teacher, name=name)
    return teacher, class_group, add_students(class_group, teacher, *names)


def answer(user, lesson: LessonPage, answers) -> None:
    """View the lesson and submit its quiz."""
    mark_viewed(user=user, lesson=lesson)
    block_id = lesson.activity_specs()[0].block_id
    submit_quiz(user=user, lesson=lesson, block_id=block_id, answers=answers, base=BASE)


def enrol_staff(user, course: CoursePage, by=None):
    return enrol(user=user, course=course, by=by)


def trained_staff(library, role, course: CoursePage, completing=None, **user_fields):
    """A new staff member (`role` at `library`) enrolled on the librarians' `course`; given
    `completing`, one of its lessons, they also answer that lesson's quiz right."""
    user = staff_at(library, role, **user_fields)
    enrol_staff(user, course)
    if completing is not None:
        answer(user, completing, RIGHT)
    return user
