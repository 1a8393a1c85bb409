import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from openpyxl import Workbook

from courses.classes import services as classes
from courses.models import Assignment, ClassMembership, Enrollment
from libraries.models import Membership, Role
from tests.courses.classes.factories import (
    add_students,
    class_with_students,
    course_with_quizzes,
    make_class,
    staff_at,
    teacher_at,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


User = get_user_model()


def test_username_and_password_shapes():
    assert classes.username_base("Nguyễn Văn An") == "annv"
    assert classes.username_base("  Lê   Bảo  ") == "baol"
    password = classes.simple_password()
    assert password[-2:].isdigit() and password[:-2].isalpha() and password.isascii()


def test_bulk_create_reports_bad_rows_and_creates_good_ones(net):
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher)
    UserFactory(username="annv1")  # taken elsewhere: the next number is used
    rows = [
        (1, "Nguyễn Văn An"),
        (2, ""),
        (3, "Trần Thị Bình"),
        (4, "nguyen van  an"),  # same name as row 1 once folded
        (5, "   "),
        (6, "Lê Chi"),
        (7, "x" * 151),
    ]
    report = classes.bulk_create_students(class_group=class_group, rows=rows, by=teacher)
    assert [(e.row, e.message) for e in report.errors] == [
        (2, "The name is empty."),
        (4, "Same name as row 1."),
        (5, "The name is empty."),
        (7, "The name is too long."),
    ]
    created = {c.name: c.user.username for c in report.created}
    assert created == {"Nguyễn Văn An": "annv2", "Trần Thị Bình": "binhtt1", "Lê Chi": "chil1"}
    for c in report.created:
        user = User.objects.get(username=c.user.username)
        assert user.email == "" and user.display_name == c.name
        assert user.check_password(c.password)
        assert Membership.objects.filter(user=user, library=net.school, role=Role.STUDENT).exists()
    assert ClassMembership.objects.filter(class_group=class_group, left_at=None).count() == 3
    # The same list again: every row is now a name already in the class.
    again = classes.bulk_create_students(class_group=class_group, rows=rows[:1], by=teacher)
    assert again.created == []
    assert again.errors[0].message == "A student with this name is already in the class."


def test_upload_csv_and_xlsx_are_read_and_checked():
    csv_file = SimpleUploadedFile("lop.csv", "Họ tên\nPhạm Minh\n\nĐỗ Hà\n".encode())
    assert classes.rows_from_upload(csv_file) == [(2, "Phạm Minh"), (3, ""), (4, "Đỗ Hà")]
    workbook = Workbook()
    sheet = workbook.active
    for value in ("name", "Vũ Lan", None, "Hồ Nam"):
        sheet.append([value, "ignored"])
    data = io.BytesIO()
    workbook.save(data)
    xlsx = SimpleUploadedFile("lop.xlsx", data.getvalue())
    assert classes.rows_from_upload(xlsx) == [(2, "Vũ Lan"), (3, ""), (4, "Hồ Nam")]
    with pytest.raises(classes.ClassError, match="not an Excel"):
        classes.rows_from_upload(SimpleUploadedFile("fake.xlsx", b"name\nAn\n"))
    with pytest.raises(classes.ClassError, match="Upload a .csv or .xlsx"):
        classes.rows_from_upload(SimpleUploadedFile("names.exe", b"MZ"))
    big = SimpleUploadedFile("big.csv", b"a\n" * (classes.MAX_UPLOAD_BYTES // 2 + 1))
    with pytest.raises(classes.ClassError, match="too large"):
        classes.rows_from_upload(big)


def test_add_students_page_with_upload_and_bad_file(client, net):
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher)
    client.force_login(teacher)
    url = reverse("courses:add_students", args=[class_group.pk])
    bad = SimpleUploadedFile("lop.xlsx", b"not a zip")
    response = client.post(url, {"upload": bad})
    assert "This is not an Excel (.xlsx) file." in response.content.decode()
    assert not ClassMembership.objects.exists()
    upload = SimpleUploadedFile("lop.csv", "Ngô An\nNgô An\nLý Bình\n".encode())
    response = client.post(url, {"upload": upload})
    html = response.content.decode()
    assert response.status_code == 200
    assert "ann1" in html and "binhl1" in html and "Same name as row 1." in html
    pdf = client.get(reverse("courses:login_cards", args=[class_group.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000


def test_reset_move_archive_and_one_open_class_per_library(net):
    teacher = teacher_at(net.school)
    a = make_class(net.school, teacher, "6A")
    b = make_class(net.school, teacher, "6B")
    (student,) = add_students(a, teacher, "Đặng Thu")
    password = classes.reset_password(class_group=a, student=student)
    student.refresh_from_db()
    assert student.check_password(password)
    with pytest.raises(classes.ClassError, match="not in the class"):
        classes.reset_password(class_group=b, student=student)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClassMembership.objects.create(class_group=b, student=student)
    with pytest.raises(classes.ClassError, match="already in a class"):
        classes._open_membership(b, student)
    with pytest.raises(classes.ClassError, match="already in a class"):
        classes.add_existing_student(class_group=b, student=student, by=teacher)
    classes.move_student(student=student, from_class=a, to_class=b, by=teacher)
    assert list(ClassMembership.objects.filter(student=student, left_at=None)) == [
        ClassMembership.objects.get(class_group=b, student=student)
    ]
    other = make_class(net.other_school, teacher_at(net.other_school), "6A")
    with pytest.raises(classes.ClassError, match="same library"):
        classes.move_student(student=student, from_class=b, to_class=other, by=teacher)
    classes.archive_class(class_group=b)
    assert b.archived_at is not None
    assert not ClassMembership.objects.filter(student=student, left_at=None).exists()
    # Free to join next year's class.
    c = make_class(net.school, teacher, "7A", "2027-2028")
    classes.add_existing_student(class_group=c, student=student, by=teacher)
    with pytest.raises(classes.ClassError, match="archived"):
        add_students(b, teacher, "Mai Anh")


def test_assign_enrols_class_and_newcomers(net):
    teacher, class_group, (s1, s2) = class_with_students(net.school, "An", "Bình")
    course, lessons = course_with_quizzes(self_enrolment=False)
    classes.assign(class_group=class_group, course=course, by=teacher)
    assert set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True)) == {
        s1.pk,
        s2.pk,
    }
    assert Enrollment.objects.get(user=s1).enrolled_by == teacher
    (s3,) = add_students(class_group, teacher, "Cúc")
    assert Enrollment.objects.filter(user=s3, course=course).exists()
    other_course, other_lessons = course_with_quizzes("Khác")
    chosen = classes.assign(
        class_group=class_group,
        course=other_course,
        lesson=other_lessons[1],
        students=[s2],
        by=teacher,
    )
    assert list(chosen.students.all()) == [s2]
    assert list(
        Enrollment.objects.filter(course=other_course).values_list("user_id", flat=True)
    ) == [s2.pk]
    with pytest.raises(classes.ClassError, match="does not belong"):
        classes.assign(class_group=class_group, course=course, lesson=other_lessons[0], by=teacher)
    outsider = UserFactory()
    with pytest.raises(classes.ClassError, match="Only students of this class"):
        classes.assign(class_group=class_group, course=course, students=[outsider], by=teacher)
    assert Assignment.objects.count() == 2


def test_teacher_sees_only_their_classes(client, net):
    teacher, colleague = teacher_at(net.school), teacher_at(net.school)
    mine = make_class(net.school, teacher, "6A")
    theirs = make_class(net.school, colleague, "6B")
    client.force_login(teacher)
    html = client.get(reverse("courses:teacher_home")).content.decode()
    assert "6A" in html and "6B" not in html
    for name in ("class_detail", "class_report", "add_students"):
        assert client.get(reverse(f"courses:{name}", args=[theirs.pk])).status_code == 403
        assert client.get(reverse(f"courses:{name}", args=[mine.pk])).status_code == 200
    assert (
        client.get(reverse("courses:class_report_export", args=[theirs.pk, "csv"])).status_code
        == 403
    )


def test_class_creation_needs_a_teacher_membership_there(client, net):
    teacher = teacher_at(net.school)
    client.force_login(teacher)
    url = reverse("courses:teacher_home")
    response = client.post(
        url, {"library": net.other_school.pk, "name": "9A", "school_year": "2026-2027"}
    )
    assert response.status_code == 200  # the choice is refused by the form
    assert not teacher.taught_classes.exists()
    response = client.post(
        url, {"library": net.school.pk, "name": "9A", "school_year": "2026-2027"}
    )
    assert response.status_code == 302
    assert teacher.taught_classes.get().library == net.school
    client.force_login(UserFactory())
    assert (
        client.post(
            url, {"library": net.school.pk, "name": "9B", "school_year": "2026-2027"}
        ).status_code
        == 403
    )


def test_school_staff_see_their_school_classes_and_district_admin_does_not(client, net):
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher)
    other = make_class(net.other_school, teacher_at(net.other_school))
    client.force_login(staff_at(net.school, Role.LIBRARIAN))
    assert client.get(reverse("courses:class_report", args=[class_group.pk])).status_code == 200
    assert client.get(reverse("courses:class_report", args=[other.pk])).status_code == 403
    # A librarian sees but does not manage.
    assert client.get(reverse("courses:add_students", args=[class_group.pk])).status_code == 403
    client.force_login(staff_at(net.district))
    assert client.get(reverse("courses:class_report", args=[class_group.pk])).status_code == 403


def test_teacher_pages_post_actions(client, net):
    teacher = teacher_at(net.school)
    a = make_class(net.school, teacher, "6A")
    b = make_class(net.school, teacher, "6B")
    (student,) = add_students(a, teacher, "Tạ Minh")
    client.force_login(teacher)
    response = client.post(reverse("courses:reset_password", args=[a.pk, student.pk]), follow=True)
    assert "New password for minht1" in response.content.decode()
    client.post(reverse("courses:move_student", args=[a.pk, student.pk]), {"to_class": b.pk})
    assert ClassMembership.objects.get(student=student, left_at=None).class_group == b
    client.post(reverse("courses:archive_class", args=[b.pk]))
    b.refresh_from_db()
    assert b.archived_at is not None


def test_my_assignments_lists_class_work(client, net):
    teacher, class_group, (s1, s2) = class_with_students(net.school, "An", "Bình")
    course, lessons = course_with_quizzes("Đọc sách điện tử")
    classes.assign(class_group=class_group, course=course, by=teacher)
    classes.assign(
        class_group=class_group, course=course, lesson=lessons[1], students=[s2], by=teacher
    )
    client.force_login(s1)
    html = client.get(reverse("courses:my_assignments")).content.decode()
    assert "Đọc sách điện tử" in html and "Bài 2" not in html
    client.force_login(s2)
    html = client.get(reverse("courses:my_assignments")).content.decode()
    assert "Bài 2" in html


def test_class_page_has_a_fixed_number_of_queries(client, django_assert_num_queries, net):
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher, "6A")
    make_class(net.school, teacher, "6B")
    add_students(class_group, teacher, "An", "Bình")
    client.force_login(teacher)
    url = reverse("courses:class_detail", args=[class_group.pk])
    client.get(url)
    with django_assert_num_queries(15):
        html = client.get(url).content.decode()
    assert "6B" in html
    add_students(class_group, teacher, "Cúc", "Dung", "Giang")
    with django_assert_num_queries(15):
        client.get(url)


def test_my_assignments_has_a_fixed_number_of_queries(client, django_assert_num_queries, net):
    teacher, class_group, (student,) = class_with_students(net.school, "An")
    course, lessons = course_with_quizzes("Khoá một")
    classes.assign(class_group=class_group, course=course, by=teacher)
    client.force_login(student)
    url = reverse("courses:my_assignments")
    client.get(url)
    with django_assert_num_queries(7):
        client.get(url)
    for title in ("Khoá hai", "Khoá ba"):
        other, other_lessons = course_with_quizzes(title)
        classes.assign(class_group=class_group, course=other, lesson=other_lessons[0], by=teacher)
    with django_assert_num_queries(7):
        html = client.get(url).content.decode()
    assert "Khoá một" in html and "Khoá ba" in html
