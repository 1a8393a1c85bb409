"""Classes and group enrolment in the staff area (courses/classes/admin.py): the permission
matrix of the network screens, reassigning a class (never to a teacher elsewhere), archiving a
school year in one step, and enrolling a group once however often it is sent."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.classes import services as classes
from courses.dashboards import reports
from courses.models import (
    ClassGroup,
    ClassMembership,
    Enrollment,
    LessonProgress,
    LibraryTrainingFigures,
)
from courses.training.progress import enrol_group
from libraries.models import Membership, Role
from tests.courses.classes.factories import (
    RIGHT,
    add_students,
    answer,
    class_with_students,
    course_with_quizzes,
    make_class,
    teacher_at,
)
from tests.courses.training.factories import make_course, make_lesson
from tests.courses.training.staff import (
    ADMINS,
    STAFF,
    assert_outcome,
    assert_sent_to_login,
    by_role,
    learner_at,
    matrix,
)
from tests.factories import LibraryFactory, UserFactory
from tests.libraries.conftest import TARGETS
from tests.threads import failures, run_together

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

YEAR = "2025-2026"


def class_rows() -> list[tuple]:
    """Every class with its teachers and open students, to compare before and after."""
    return [
        (
            c.pk,
            c.name,
            c.archived_at,
            sorted(c.teachers.values_list("pk", flat=True)),
            sorted(c.memberships.filter(left_at__isnull=True).values_list("student_id", flat=True)),
        )
        for c in ClassGroup.objects.order_by("pk")
    ]


@pytest.fixture
def school_classes(tree):
    """A class of YEAR at each target library, its teacher, and another teacher there."""
    made = {}
    for name in TARGETS:
        library = tree.target(name)
        teacher = teacher_at(library, username=f"teacher_{name}")
        made[name] = {
            "class": make_class(library, teacher, name=f"6{name}", year=YEAR),
            "teacher": teacher,
            "other": teacher_at(library, username=f"other_{name}"),
        }
    return made


def class_outcome(role, target, manage=True) -> str:
    """Classes are seen by the library's own staff only; admins change them."""
    if role not in STAFF:
        return "login"
    if target != "own":
        return "not_found"
    return "ok" if role in ADMINS or not manage else "forbidden"


# --- the list --------------------------------------------------------------------------------


@by_role
def test_index_lists_the_classes_and_teachers_of_ones_own_library(
    member_client, school_classes, role
):
    client, _user = member_client(role)
    response = client.get(reverse("training_classes:index"))
    if role not in STAFF:
        assert_sent_to_login(response)
        return
    assert response.status_code == 200
    assert [c.name for c in response.context["classes"]] == ["6own"]
    assert [m.user.username for m in response.context["teachers"]] == ["other_own", "teacher_own"]
    assert {m.user.username: m.open_classes for m in response.context["teachers"]} == {
        "other_own": 0,
        "teacher_own": 1,
    }
    html = response.content.decode()
    reassign = reverse("training_classes:reassign", args=[school_classes["own"]["class"].pk])
    assert (reassign in html) == (role in ADMINS)


def test_school_admin_sees_all_its_classes_and_filters_them(client):
    school, elsewhere = LibraryFactory(code="THA"), LibraryFactory(code="THB")
    admin = learner_at(school, Role.LIBRARY_ADMIN)
    first, second = teacher_at(school), teacher_at(school)
    make_class(school, first, name="6A", year=YEAR)
    make_class(school, second, name="7B", year=YEAR)
    old = make_class(school, first, name="5A", year="2024-2025")
    classes.archive_class(class_group=old)
    make_class(elsewhere, teacher_at(elsewhere), name="6C", year=YEAR)
    client.force_login(admin)

    def names(**query):
        response = client.get(reverse("training_classes:index"), query)
        return sorted(c.name for c in response.context["classes"])

    assert names() == ["5A", "6A", "7B"]
    assert names(status="open") == ["6A", "7B"]
    assert names(status="archived") == ["5A"]
    assert names(school_year="2024-2025") == ["5A"]


def test_the_class_list_costs_the_same_queries_for_more_classes(client):
    school = LibraryFactory(code="THQ")
    admin = learner_at(school, Role.LIBRARY_ADMIN)
    client.force_login(admin)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("training_classes:index")).status_code == 200
        return len(captured)

    class_with_students(school, "An", name="6A")
    few = queries()
    for name in ("6B", "6C", "7A"):
        class_with_students(school, "Bình", "Cúc", name=name)
    assert queries() == few


# --- reassigning a class ---------------------------------------------------------------------


@matrix
def test_reassign_form(member_client, school_classes, role, target):
    client, _user = member_client(role)
    class_group = school_classes[target]["class"]
    response = client.get(reverse("training_classes:reassign", args=[class_group.pk]))
    assert_outcome(response, class_outcome(role, target))


@matrix
def test_reassign(member_client, school_classes, role, target):
    client, _user = member_client(role)
    made = school_classes[target]
    before = class_rows()
    response = client.post(
        reverse("training_classes:reassign", args=[made["class"].pk]),
        {"teacher": made["other"].pk},
    )
    outcome = class_outcome(role, target)
    assert_outcome(response, outcome, ok_status=302)
    if outcome == "ok":
        expected = [
            (pk, name, archived, [made["other"].pk] if pk == made["class"].pk else teachers, kids)
            for pk, name, archived, teachers, kids in before
        ]
        assert class_rows() == expected
    else:
        assert class_rows() == before


def test_reassign_to_a_teacher_of_another_library_is_refused(client, tree):
    admin = learner_at(tree.own, Role.LIBRARY_ADMIN)
    teacher = teacher_at(tree.own, display_name="Cô Lan")
    class_group = make_class(tree.own, teacher, year=YEAR)
    stranger = teacher_at(tree.child, display_name="Thầy Nam")  # a teacher, but elsewhere
    before = class_rows()
    client.force_login(admin)
    response = client.post(
        reverse("training_classes:reassign", args=[class_group.pk]), {"teacher": stranger.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["teacher"] == [
        "Thầy Nam does not teach at Thư viện huyện Hòa Bình: choose a teacher of this library."
    ]
    assert class_rows() == before
    # Nor does the service take a reader of the library, or someone without any role.
    for nobody in (learner_at(tree.own, Role.READER), UserFactory()):
        with pytest.raises(classes.ClassError):
            classes.reassign_class(class_group=class_group, teacher=nobody, by=admin)
    assert class_rows() == before


def test_the_new_teacher_takes_over_the_class(client, net):
    teacher, class_group, students = class_with_students(net.school, "An", "Bình")
    newcomer = teacher_at(net.school)
    admin = learner_at(net.school, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    response = client.post(
        reverse("training_classes:reassign", args=[class_group.pk]), {"teacher": newcomer.pk}
    )
    assert response.status_code == 302
    assert list(class_group.teachers.all()) == [newcomer]
    assert sorted(s.pk for s in class_group.students()) == sorted(s.pk for s in students)
    client.force_login(teacher)
    assert list(client.get(reverse("courses:teacher_home")).context["classes"]) == []
    assert client.get(reverse("courses:class_detail", args=[class_group.pk])).status_code == 403
    client.force_login(newcomer)
    assert list(client.get(reverse("courses:teacher_home")).context["classes"]) == [class_group]


def test_an_archived_class_is_not_reassigned(net):
    teacher, class_group, _students = class_with_students(net.school, "An")
    classes.archive_class(class_group=class_group)
    before = class_rows()
    with pytest.raises(classes.ClassError, match="This class is archived."):
        classes.reassign_class(class_group=class_group, teacher=teacher_at(net.school), by=None)
    assert class_rows() == before


# --- archiving a school year -----------------------------------------------------------------


@matrix
def test_archive_year(member_client, school_classes, role, target):
    client, _user = member_client(role)
    library = school_classes[target]["class"].library
    before = class_rows()
    response = client.post(
        reverse("training_classes:archive_year"), {"library": library.pk, "school_year": YEAR}
    )
    if role not in STAFF:
        assert_sent_to_login(response)
    elif role in ADMINS and target == "own":
        assert response.status_code == 302
        assert ClassGroup.objects.get(pk=school_classes["own"]["class"].pk).is_archived
        assert [row for row in class_rows() if row[0] != school_classes["own"]["class"].pk] == [
            row for row in before if row[0] != school_classes["own"]["class"].pk
        ]
        return
    else:
        # The library is no choice of the form: refused there, nothing archived.
        assert response.status_code == 200
        assert response.context["form"].errors["library"]
    assert class_rows() == before


def test_archiving_a_school_year_keeps_students_and_their_history(client, net):
    teacher, six_a, (an, binh) = class_with_students(net.school, "Nguyễn Văn An", "Trần Bình")
    six_b = make_class(net.school, teacher, name="6B", year=six_a.school_year)
    (cuc,) = add_students(six_b, teacher, "Lê Cúc")
    next_year = make_class(net.school, teacher, name="7A", year="2027-2028")
    other_school = make_class(net.other_school, teacher_at(net.other_school), name="6A")
    course, (lesson, _second) = course_with_quizzes("Tra cứu", lessons=2)
    classes.assign(class_group=six_a, course=course, by=teacher)
    answer(an, lesson, RIGHT)
    history = sorted(
        LessonProgress.objects.values_list("user_id", "lesson_id", "completed_at", "best_score")
    )
    enrolments = sorted(Enrollment.objects.values_list("user_id", "course_id", "completed_at"))
    memberships = sorted(Membership.objects.values_list("user_id", "library_id", "role"))

    admin = learner_at(net.school, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    url = reverse("training_classes:archive_year")
    preview = client.get(url, {"library": net.school.pk, "school_year": six_a.school_year})
    assert [c.name for c in preview.context["to_archive"]] == ["6A", "6B"]
    response = client.post(url, {"library": net.school.pk, "school_year": six_a.school_year})
    assert response.status_code == 302

    six_a.refresh_from_db()
    six_b.refresh_from_db()
    assert six_a.archived_at is not None and six_a.archived_at == six_b.archived_at
    assert not ClassGroup.objects.get(pk=next_year.pk).is_archived
    assert not ClassGroup.objects.get(pk=other_school.pk).is_archived
    assert not ClassMembership.objects.filter(
        class_group__in=[six_a, six_b], left_at__isnull=True
    ).exists()
    # Students keep their accounts, memberships, enrolments and progress.
    accounts = get_user_model().objects.filter(pk__in=[an.pk, binh.pk, cuc.pk])
    assert [u.is_active for u in accounts] == [True, True, True]
    assert sorted(Membership.objects.values_list("user_id", "library_id", "role")) == sorted(
        [*memberships, (admin.pk, net.school.pk, Role.LIBRARY_ADMIN)]
    )
    assert sorted(Enrollment.objects.values_list("user_id", "course_id", "completed_at")) == (
        enrolments
    )
    assert (
        sorted(
            LessonProgress.objects.values_list("user_id", "lesson_id", "completed_at", "best_score")
        )
        == history
    )
    # The classes leave the teacher's open list and keep their reports.
    client.force_login(teacher)
    home = client.get(reverse("courses:teacher_home"))
    assert [c.name for c in home.context["classes"]] == ["7A"]
    assert [c.name for c in home.context["archived_classes"]] == ["6A", "6B"]
    report = reports.class_report(six_a)
    assert sorted(row.student.display_name for row in report.rows) == ["Nguyễn Văn An", "Trần Bình"]
    assert report.rows[0].cells[0].status == "completed"
    assert client.get(reverse("courses:class_report", args=[six_a.pk])).status_code == 200
    # Next year's class takes them.
    classes.add_existing_student(class_group=next_year, student=an, by=teacher)
    assert [s.pk for s in next_year.students()] == [an.pk]


def test_archiving_a_year_again_changes_nothing(client, net):
    teacher, class_group, _students = class_with_students(net.school, "An")
    admin = learner_at(net.school, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    url = reverse("training_classes:archive_year")
    data = {"library": net.school.pk, "school_year": class_group.school_year}
    client.post(url, data)
    before = class_rows()
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Trường THCS A has no open class in the school year {class_group.school_year}."
    ]
    assert class_rows() == before


# --- enrolling a group -----------------------------------------------------------------------


@pytest.fixture
def course():
    course = make_course(title="Tra cứu", self_enrolment=False)
    make_lesson(course)
    return course


def enrolment_rows():
    return sorted(Enrollment.objects.values_list("user_id", "course_id", "enrolled_by_id"))


@matrix
def test_enrol_people(member_client, tree, course, role, target):
    client, user = member_client(role)
    learner = learner_at(tree.target(target), username=f"learner_{target}")
    before = enrolment_rows()
    response = client.post(
        reverse("training_group_enrolment:enrol"),
        {"course": course.pk, "people": f"learner_{target}\n"},
    )
    if role not in STAFF:
        assert_sent_to_login(response)
        assert enrolment_rows() == before
    elif target in ("own", "child"):
        assert response.status_code == 302
        assert enrolment_rows() == sorted([*before, (learner.pk, course.pk, user.pk)])
    else:
        assert response.status_code == 200
        assert response.context["form"].errors["people"] == [
            f"Not found among the people of your libraries: learner_{target}"
        ]
        assert enrolment_rows() == before


@matrix
def test_enrol_a_class(member_client, tree, course, role, target):
    client, user = member_client(role)
    class_group = make_class(tree.target(target), teacher_at(tree.target(target)), year=YEAR)
    students = add_students(class_group, class_group.teachers.get(), "An", "Bình")
    before = enrolment_rows()
    response = client.post(
        reverse("training_group_enrolment:enrol"),
        {"course": course.pk, "class_group": class_group.pk},
    )
    if role not in STAFF:
        assert_sent_to_login(response)
    elif target == "own":
        assert response.status_code == 302
        added = [(s.pk, course.pk, user.pk) for s in students]
        assert enrolment_rows() == sorted([*before, *added])
        return
    else:
        assert response.status_code == 200
        assert response.context["form"].errors["class_group"]
    assert enrolment_rows() == before


def test_enrolling_twice_enrols_once(client, net, course):
    teacher, class_group, students = class_with_students(net.school, "An", "Bình")
    librarian = learner_at(net.school, Role.LIBRARIAN)
    colleague = learner_at(net.school, Role.LIBRARIAN, email="co.mai@example.org")
    client.force_login(librarian)
    data = {"course": course.pk, "class_group": class_group.pk, "people": "CO.MAI@example.org"}
    first = client.post(reverse("training_group_enrolment:enrol"), data, follow=True)
    assert [str(m) for m in first.context["messages"]] == [
        "Tra cứu: 3 enrolled now, 0 enrolled before."
    ]
    rows = enrolment_rows()
    assert rows == sorted((u.pk, course.pk, librarian.pk) for u in [*students, colleague])
    second = client.post(reverse("training_group_enrolment:enrol"), data, follow=True)
    assert [str(m) for m in second.context["messages"]] == [
        "Tra cứu: 0 enrolled now, 3 enrolled before."
    ]
    assert enrolment_rows() == rows
    figures = LibraryTrainingFigures.objects.get(library=net.school, course=course)
    assert (figures.learners, figures.enrolments) == (3, 3)


def test_a_district_cannot_enrol_a_school_student_by_name(client, net, course):
    _teacher, _class, (student,) = class_with_students(net.school, "An")
    district_admin = learner_at(net.district, Role.LIBRARY_ADMIN)
    client.force_login(district_admin)
    response = client.post(
        reverse("training_group_enrolment:enrol"),
        {"course": course.pk, "people": student.username},
    )
    assert response.context["form"].errors["people"] == [
        f"Not found among the people of your libraries: {student.username}"
    ]
    assert not Enrollment.objects.filter(user=student).exists()


def test_nothing_chosen_is_refused(client, net, course):
    client.force_login(learner_at(net.school, Role.LIBRARIAN))
    response = client.post(reverse("training_group_enrolment:enrol"), {"course": course.pk})
    assert response.context["form"].non_field_errors() == [
        "Choose a class or write the people to enrol."
    ]
    assert not Enrollment.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_enrols_each_learner_once():
    """Two group enrolments of the same people at the same moment: each learner once, the
    running totals counted once."""
    school = LibraryFactory(code="THSS")
    librarian = learner_at(school, Role.LIBRARIAN)
    learners = [learner_at(school) for _ in range(6)]
    course = make_course(title="Song song")
    make_lesson(course)
    outcomes = run_together(
        [lambda: len(enrol_group(users=learners, course=course, by=librarian).enrolled)] * 4
    )
    assert failures(outcomes) == []
    assert sorted(outcomes) == [0, 0, 0, 6]
    assert Enrollment.objects.filter(course=course).count() == 6
    figures = LibraryTrainingFigures.objects.get(library=school, course=course)
    assert (figures.learners, figures.enrolments) == (6, 6)
