"""The staff audit log of classes and students (courses/classes/services.py): one entry per
change, on the class's school library, with the changed values before and after (never a
password); refused changes write nothing and change nothing. Replayed over HTTP."""

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from courses.classes import services as classes
from courses.classes.services import (
    ASSIGNMENT_CREATE_ACTION,
    CLASS_ARCHIVE_ACTION,
    CLASS_CREATE_ACTION,
    CLASS_REASSIGN_ACTION,
    EXPORT_ACTION,
    STUDENT_ADD_ACTION,
    STUDENT_CREATE_ACTION,
    STUDENT_MOVE_ACTION,
    STUDENT_RESET_ACTION,
)
from courses.models import Assignment, ClassGroup, ClassMembership, Enrollment
from courses.training.progress import ENROLMENT_CREATE_ACTION
from libraries.models import Library, Role
from tests.courses.audit.support import batches, entries_since, mark, rows_since
from tests.courses.classes.factories import (
    class_with_students,
    course_with_quizzes,
    make_class,
    staff_at,
    teacher_at,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

User = get_user_model()


def class_state(class_group) -> tuple:
    """A class, its teachers and open students, read again from the database."""
    fresh = ClassGroup.objects.get(pk=class_group.pk)
    return (
        fresh.name,
        fresh.archived_at,
        sorted(fresh.teachers.values_list("pk", flat=True)),
        sorted(
            ClassMembership.objects.filter(class_group=fresh, left_at__isnull=True).values_list(
                "student_id", "joined_at"
            )
        ),
    )


def test_creating_a_class_is_logged_on_its_school(client, net):
    teacher = teacher_at(net.school)
    client.force_login(teacher)
    marker = mark()
    response = client.post(
        reverse("courses:teacher_home"),
        {"library": net.school.pk, "name": "7C", "school_year": "2026-2027"},
    )
    assert response.status_code == 302
    made = ClassGroup.objects.get(name="7C")
    after = {"library": net.school.pk, "name": "7C", "school_year": "2026-2027",
             "teachers": [teacher.pk]}  # fmt: skip
    assert rows_since(marker) == [
        (CLASS_CREATE_ACTION, teacher.pk, ClassGroup, made.pk,
         {"before": {}, "after": after, "library": net.school.pk}),
    ]  # fmt: skip


def test_a_teacher_elsewhere_creates_no_class_and_no_entry(client, net):
    client.force_login(teacher_at(net.other_school))
    marker, count = mark(), ClassGroup.objects.count()
    response = client.post(
        reverse("courses:teacher_home"),
        {"library": net.school.pk, "name": "7C", "school_year": "2026-2027"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["library"]
    assert ClassGroup.objects.count() == count
    assert entries_since(marker) == []


def test_adding_students_logs_one_entry_per_account_in_one_batch(client, net):
    course, _lessons = course_with_quizzes()
    teacher, class_group, _students = class_with_students(net.school)
    classes.assign(class_group=class_group, course=course, by=teacher)
    client.force_login(teacher)
    marker = mark()
    response = client.post(
        reverse("courses:add_students", args=[class_group.pk]), {"names": "Nguyễn Văn An\nLê Cúc"}
    )
    assert response.status_code == 200
    an = User.objects.get(display_name="Nguyễn Văn An")
    cuc = User.objects.get(display_name="Lê Cúc")
    enrolments = {e.user_id: e.pk for e in Enrollment.objects.filter(user__in=[an, cuc])}
    school = net.school.pk
    assert rows_since(marker) == [
        (STUDENT_CREATE_ACTION, teacher.pk, User, an.pk,
         {"before": {}, "after": {"username": an.username, "class": class_group.pk},
          "library": school}),
        (STUDENT_CREATE_ACTION, teacher.pk, User, cuc.pk,
         {"before": {}, "after": {"username": cuc.username, "class": class_group.pk},
          "library": school}),
        # Each is enrolled in the course assigned to the whole class: staff-made enrolments.
        (ENROLMENT_CREATE_ACTION, teacher.pk, Enrollment, enrolments[an.pk],
         {"before": {}, "after": {"user": an.pk, "course": course.pk, "library": school},
          "library": school}),
        (ENROLMENT_CREATE_ACTION, teacher.pk, Enrollment, enrolments[cuc.pk],
         {"before": {}, "after": {"user": cuc.pk, "course": course.pk, "library": school},
          "library": school}),
    ]  # fmt: skip
    entries = entries_since(marker)
    assert len(batches(entries)) == 1 and None not in batches(entries)


def test_a_password_reset_is_logged_without_the_password(client, net):
    teacher, class_group, (an,) = class_with_students(net.school, "An")
    client.force_login(teacher)
    marker = mark()
    response = client.post(
        reverse("courses:reset_password", args=[class_group.pk, an.pk]), follow=True
    )
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"]]
    password = message.rsplit(": ", 1)[1]
    an.refresh_from_db()
    assert an.check_password(password)
    entries = entries_since(marker)
    assert rows_since(marker) == [
        (STUDENT_RESET_ACTION, teacher.pk, User, an.pk,
         {"before": {}, "after": {}, "library": net.school.pk}),
    ]  # fmt: skip
    stored = json.dumps([e.data for e in entries]) + entries[0].label
    assert password not in stored and an.password not in stored


def test_a_refused_password_reset_writes_nothing(client, net):
    _teacher, class_group, (an,) = class_with_students(net.school, "An")
    client.force_login(teacher_at(net.other_school))
    marker, hashed = mark(), an.password
    response = client.post(reverse("courses:reset_password", args=[class_group.pk, an.pk]))
    assert response.status_code == 403
    an.refresh_from_db()
    assert an.password == hashed
    assert entries_since(marker) == []


def test_login_cards_log_each_reset_and_the_download(client, net):
    teacher, class_group, (an, binh) = class_with_students(net.school, "An", "Bình")
    client.force_login(teacher)
    marker = mark()
    response = client.post(reverse("courses:login_cards", args=[class_group.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    school = net.school.pk
    reset = {"before": {}, "after": {}, "library": school}
    assert rows_since(marker) == [
        (STUDENT_RESET_ACTION, teacher.pk, User, an.pk, reset),
        (STUDENT_RESET_ACTION, teacher.pk, User, binh.pk, reset),
        (EXPORT_ACTION, teacher.pk, Library, school,
         {"library": school, "export": "login_cards", "rows": 2}),
    ]  # fmt: skip
    resets = entries_since(marker)[:2]
    assert len(batches(resets)) == 1 and None not in batches(resets)


def test_moving_a_student_is_logged_with_both_classes(client, net):
    teacher, six_a, (an,) = class_with_students(net.school, "An")
    six_b = make_class(net.school, teacher, name="6B")
    client.force_login(teacher)
    marker = mark()
    response = client.post(
        reverse("courses:move_student", args=[six_a.pk, an.pk]), {"to_class": six_b.pk}
    )
    assert response.status_code == 302
    assert [s.pk for s in six_b.students()] == [an.pk]
    assert rows_since(marker) == [
        (STUDENT_MOVE_ACTION, teacher.pk, User, an.pk,
         {"before": {"class": six_a.pk}, "after": {"class": six_b.pk},
          "library": net.school.pk}),
    ]  # fmt: skip


def test_a_refused_move_writes_nothing(client, net):
    _teacher, six_a, (an,) = class_with_students(net.school, "An")
    other_teacher = teacher_at(net.school)
    six_b = make_class(net.school, other_teacher, name="6B")
    # A teacher of the same school who teaches neither class.
    client.force_login(teacher_at(net.school))
    marker, before = mark(), (class_state(six_a), class_state(six_b))
    response = client.post(
        reverse("courses:move_student", args=[six_a.pk, an.pk]), {"to_class": six_b.pk}
    )
    assert response.status_code == 403
    assert (class_state(six_a), class_state(six_b)) == before
    assert entries_since(marker) == []


def test_adding_an_existing_student_is_logged(net):
    teacher, six_a, (an,) = class_with_students(net.school, "An")
    classes.archive_class(class_group=six_a, by=teacher)
    next_year = make_class(net.school, teacher, name="7A", year="2027-2028")
    marker = mark()
    classes.add_existing_student(class_group=next_year, student=an, by=teacher)
    assert rows_since(marker) == [
        (STUDENT_ADD_ACTION, teacher.pk, User, an.pk,
         {"before": {"class": None}, "after": {"class": next_year.pk},
          "library": net.school.pk}),
    ]  # fmt: skip


def test_archiving_a_class_is_logged(client, net):
    teacher, class_group, _students = class_with_students(net.school, "An")
    client.force_login(teacher)
    marker = mark()
    response = client.post(reverse("courses:archive_class", args=[class_group.pk]))
    assert response.status_code == 302
    archived_at = ClassGroup.objects.get(pk=class_group.pk).archived_at
    assert archived_at is not None
    assert rows_since(marker) == [
        (CLASS_ARCHIVE_ACTION, teacher.pk, ClassGroup, class_group.pk,
         {"before": {"archived_at": None}, "after": {"archived_at": archived_at.isoformat()},
          "library": net.school.pk}),
    ]  # fmt: skip
    # Archiving again changes nothing and writes nothing.
    marker = mark()
    assert client.post(reverse("courses:archive_class", args=[class_group.pk])).status_code == 302
    assert entries_since(marker) == []


def test_a_refused_archive_writes_nothing(client, net):
    _teacher, class_group, _students = class_with_students(net.school, "An")
    client.force_login(teacher_at(net.other_school))
    marker, before = mark(), class_state(class_group)
    response = client.post(reverse("courses:archive_class", args=[class_group.pk]))
    assert response.status_code == 403
    assert class_state(class_group) == before
    assert entries_since(marker) == []


def test_archiving_a_school_year_logs_one_entry_per_class_in_one_batch(client, net):
    teacher, six_a, _students = class_with_students(net.school, "An")
    six_b = make_class(net.school, teacher, name="6B")
    later = make_class(net.school, teacher, name="7A", year="2027-2028")
    admin = staff_at(net.school)
    client.force_login(admin)
    marker = mark()
    response = client.post(
        reverse("training_classes:archive_year"),
        {"library": net.school.pk, "school_year": six_a.school_year},
    )
    assert response.status_code == 302
    stamps = dict(ClassGroup.objects.filter(pk__in=[six_a.pk, six_b.pk]).values_list(
        "pk", "archived_at"))  # fmt: skip
    assert rows_since(marker) == [
        (CLASS_ARCHIVE_ACTION, admin.pk, ClassGroup, class_group.pk,
         {"before": {"archived_at": None},
          "after": {"archived_at": stamps[class_group.pk].isoformat()},
          "library": net.school.pk})
        for class_group in (six_a, six_b)
    ]  # fmt: skip
    entries = entries_since(marker)
    assert len(batches(entries)) == 1 and None not in batches(entries)
    assert ClassGroup.objects.get(pk=later.pk).archived_at is None


def test_archiving_another_schools_year_writes_nothing(client, net):
    _teacher, six_a, _students = class_with_students(net.school, "An")
    client.force_login(staff_at(net.other_school))
    marker, before = mark(), class_state(six_a)
    response = client.post(
        reverse("training_classes:archive_year"),
        {"library": net.school.pk, "school_year": six_a.school_year},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["library"]
    assert class_state(six_a) == before
    assert entries_since(marker) == []


def test_reassigning_a_class_is_logged_with_the_teachers_before_and_after(client, net):
    teacher, class_group, _students = class_with_students(net.school, "An")
    newcomer = teacher_at(net.school)
    admin = staff_at(net.school)
    client.force_login(admin)
    marker = mark()
    response = client.post(
        reverse("training_classes:reassign", args=[class_group.pk]), {"teacher": newcomer.pk}
    )
    assert response.status_code == 302
    assert rows_since(marker) == [
        (CLASS_REASSIGN_ACTION, admin.pk, ClassGroup, class_group.pk,
         {"before": {"teachers": [teacher.pk]}, "after": {"teachers": [newcomer.pk]},
          "library": net.school.pk}),
    ]  # fmt: skip


def test_a_librarian_may_not_reassign_and_nothing_is_logged(client, net):
    _teacher, class_group, _students = class_with_students(net.school, "An")
    newcomer = teacher_at(net.school)
    client.force_login(staff_at(net.school, Role.LIBRARIAN))
    marker, before = mark(), class_state(class_group)
    response = client.post(
        reverse("training_classes:reassign", args=[class_group.pk]), {"teacher": newcomer.pk}
    )
    assert response.status_code == 403
    assert class_state(class_group) == before
    assert entries_since(marker) == []


def test_reassigning_to_a_teacher_elsewhere_is_refused_and_not_logged(client, net):
    _teacher, class_group, _students = class_with_students(net.school, "An")
    client.force_login(staff_at(net.school))
    marker, before = mark(), class_state(class_group)
    response = client.post(
        reverse("training_classes:reassign", args=[class_group.pk]),
        {"teacher": teacher_at(net.other_school).pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["teacher"]
    assert class_state(class_group) == before
    assert entries_since(marker) == []


def test_an_assignment_and_its_enrolments_share_a_batch(client, net):
    course, (first, _second) = course_with_quizzes()
    teacher, class_group, (an, binh) = class_with_students(net.school, "An", "Bình")
    client.force_login(teacher)
    marker = mark()
    response = client.post(
        reverse("courses:class_detail", args=[class_group.pk]),
        {"course": course.pk, "lesson": first.pk, "students": [binh.pk],
         "due_date": "2027-05-20"},
    )  # fmt: skip
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    enrolment = Enrollment.objects.get(user=binh, course=course)
    school = net.school.pk
    assert rows_since(marker) == [
        (ASSIGNMENT_CREATE_ACTION, teacher.pk, Assignment, assignment.pk,
         {"before": {},
          "after": {"class": class_group.pk, "course": course.pk, "lesson": first.pk,
                    "students": [binh.pk], "due_date": date(2027, 5, 20).isoformat()},
          "library": school}),
        (ENROLMENT_CREATE_ACTION, teacher.pk, Enrollment, enrolment.pk,
         {"before": {}, "after": {"user": binh.pk, "course": course.pk, "library": school},
          "library": school}),
    ]  # fmt: skip
    entries = entries_since(marker)
    assert len(batches(entries)) == 1 and None not in batches(entries)
    assert not Enrollment.objects.filter(user=an).exists()


def test_a_refused_assignment_writes_nothing(client, net):
    course, _lessons = course_with_quizzes()
    _teacher, class_group, _students = class_with_students(net.school, "An")
    client.force_login(teacher_at(net.school))  # not this class's teacher
    marker = mark()
    response = client.post(
        reverse("courses:class_detail", args=[class_group.pk]), {"course": course.pk}
    )
    assert response.status_code == 403
    assert not Assignment.objects.exists() and not Enrollment.objects.exists()
    assert entries_since(marker) == []
