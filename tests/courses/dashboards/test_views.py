"""Network dashboard: figures per library, scoping by role, filters, exports, query counts."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from courses.dashboards import reports
from courses.models import Audience
from courses.training.progress import enrol
from libraries.models import Role
from tests.courses.classes.factories import (
    RIGHT,
    answer,
    class_with_students,
    course_with_quizzes,
    make_class,
    staff_at,
    teacher_at,
    trained_staff,
)
from tests.factories import UserFactory
from tests.threads import failures, run_together

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def build(net):
    """THCSA (district HBT): 3 students on a course, one completes it; 2 staff on the
    librarians' course, one completes it. THCSB (district DDA): 1 student enrolled, 1 staff
    member completes the librarians' course."""
    course, (l1,) = course_with_quizzes("Em học thư viện số", lessons=1)
    training, (t1,) = course_with_quizzes("Chuyển đổi số", lessons=1, audience=Audience.LIBRARIANS)
    teacher, class_group, (an, binh, cuc) = class_with_students(
        net.school, "Nguyễn Văn An", "Trần Bình", "Lê Cúc"
    )
    from courses.classes import services as classes

    classes.assign(class_group=class_group, course=course, by=teacher)
    answer(an, l1, RIGHT)
    trained_staff(net.school, Role.LIBRARY_ADMIN, training, completing=t1)
    trained_staff(net.school, Role.LIBRARIAN, training)
    other_teacher, other_class, (dung,) = class_with_students(net.other_school, "Phạm Dũng")
    classes.assign(class_group=other_class, course=course, by=other_teacher)
    trained_staff(net.other_school, Role.LIBRARIAN, training, completing=t1)
    return course, training


def figures(dashboard):
    return {
        row.code: (
            row.staff_trained,
            row.learners,
            row.enrolments,
            row.completions,
            row.rate,
            row.certificate_count,
            row.last_activity is not None,
        )
        for row in dashboard.rows
    }


def test_network_figures_for_a_provincial_admin(net):
    course, training = build(net)
    province_admin = staff_at(net.province, Role.NETWORK_ADMIN)
    dashboard = reports.network_dashboard(province_admin)
    assert figures(dashboard) == {
        "DDA": (0, 0, 0, 0, None, 0, False),
        "HBT": (0, 0, 0, 0, None, 0, False),
        "TVT": (0, 0, 0, 0, None, 0, False),
        # 3 students + 2 staff enrolled; An and the admin completed (and got certificates).
        "THCSA": (1, 5, 5, 2, 40, 2, True),
        # Dũng + 1 staff enrolled; the staff member completed.
        "THCSB": (1, 2, 2, 1, 50, 1, True),
    }
    assert dashboard.totals == {
        "staff_trained": 2,
        "learners": 7,
        "enrolments": 7,
        "completions": 3,
        "certificates": 3,
        "rate": 43,
    }
    assert {r.code: (r.district.code if r.district else None) for r in dashboard.rows} == {
        "DDA": "DDA",
        "HBT": "HBT",
        "TVT": None,
        "THCSA": "HBT",
        "THCSB": "DDA",
    }


def test_filters_and_sorting(net):
    course, training = build(net)
    province_admin = staff_at(net.province, Role.NETWORK_ADMIN)
    by_district = reports.network_dashboard(province_admin, district=net.other_district)
    assert [r.code for r in by_district.rows] == ["DDA", "THCSB"]
    by_course = reports.network_dashboard(province_admin, course=course)
    assert figures(by_course)["THCSA"] == (0, 3, 3, 1, 33, 1, True)
    assert figures(by_course)["THCSB"] == (0, 1, 1, 0, 0, 0, False)
    by_training = reports.network_dashboard(province_admin, course=training)
    assert figures(by_training)["THCSA"][:2] == (1, 2)
    ordered = reports.network_dashboard(province_admin, order="completion_rate")
    assert [r.code for r in ordered.rows][:2] == ["THCSB", "THCSA"]
    ordered = reports.network_dashboard(province_admin, order="learners")
    assert [r.code for r in ordered.rows][:2] == ["THCSA", "THCSB"]


def test_district_admin_sees_only_their_district_and_no_names(client, net):
    course, training = build(net)
    district_admin = staff_at(net.district, Role.LIBRARY_ADMIN)
    assert [r.code for r in reports.network_dashboard(district_admin).rows] == ["HBT", "THCSA"]
    client.force_login(district_admin)
    response = client.get(reverse("courses:network_dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Trường THCS A" in html and "Trường THCS B" not in html
    for name in ("Nguyễn Văn An", "Trần Bình", "Lê Cúc", "Phạm Dũng"):
        assert name not in html
    # A district from elsewhere in the filter is ignored (not in their reach).
    html = client.get(
        reverse("courses:network_dashboard"), {"district": net.other_district.pk}
    ).content.decode()
    assert "Trường THCS B" not in html
    export = client.get(reverse("courses:network_export", args=["csv"]))
    text = export.content.decode("utf-8-sig")
    assert "THCSA" in text and "THCSB" not in text and "Nguyễn Văn An" not in text
    assert client.get(reverse("courses:library_dashboard", args=["THCSB"])).status_code == 403


def test_network_dashboard_refuses_teachers_students_and_librarians(client, net):
    course, training = build(net)
    for user in (
        teacher_at(net.school),
        staff_at(net.school, Role.LIBRARIAN),
        UserFactory(),
    ):
        client.force_login(user)
        assert client.get(reverse("courses:network_dashboard")).status_code == 403
        assert client.get(reverse("courses:network_export", args=["xlsx"])).status_code == 403
    client.logout()
    assert client.get(reverse("courses:network_dashboard")).status_code == 302


def test_network_exports_contents(client, net):
    course, training = build(net)
    client.force_login(staff_at(net.province, Role.NETWORK_ADMIN))
    response = client.get(reverse("courses:network_export", args=["csv"]), {"order": "learners"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Code",
        "Library",
        "District",
        "Staff trained",
        "Learners enrolled",
        "Enrolments",
        "Completions",
        "Completion rate %",
        "Certificates",
        "Last activity",
        "Loans this month",
        "E-book loans this month",
        "E-book readers this month",
    ]
    assert rows[1][:9] == [
        "THCSA",
        "Trường THCS A",
        "Thư viện huyện Hòa Bình",
        "1",
        "5",
        "5",
        "2",
        "40",
        "2",
    ]
    assert rows[2][:9] == [
        "THCSB",
        "Trường THCS B",
        "Thư viện huyện Đa Đa",
        "1",
        "2",
        "2",
        "1",
        "50",
        "1",
    ]
    assert len(rows) == 6
    response = client.get(
        reverse("courses:network_export", args=["xlsx"]), {"district": net.district.pk}
    )
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [v[0] for v in values] == ["Code", "HBT", "THCSA"]
    assert values[2][3:9] == [1, 5, 5, 2, 40, 2]
    assert client.get(reverse("courses:network_export", args=["json"])).status_code == 404


def test_network_dashboard_has_a_fixed_number_of_queries(client, django_assert_num_queries, net):
    course, training = build(net)
    client.force_login(staff_at(net.province, Role.NETWORK_ADMIN))
    url = reverse("courses:network_dashboard")
    client.get(url)
    with django_assert_num_queries(18):
        assert client.get(url, {"order": "completions"}).status_code == 200
    # More libraries, learners and completions: the same number of queries.
    from tests.factories import LibraryFactory

    for n in range(3):
        school = LibraryFactory(code=f"THX{n}", parent=net.other_district)
        teacher, _class_group, students = class_with_students(school, "A B", "C D")
        for student in students:
            enrol(user=student, course=course, by=teacher)
    with django_assert_num_queries(18):
        assert client.get(url, {"order": "completions"}).status_code == 200
    with django_assert_num_queries(16):
        client.get(reverse("courses:network_export", args=["csv"]))


def test_running_totals_match_a_rebuild_from_the_enrolments(net):
    from courses.models import LibraryTrainingFigures
    from courses.training.figures import rebuild

    build(net)

    def snapshot():
        return sorted(
            LibraryTrainingFigures.objects.values_list(
                "library__code", "course__title", "learners", "enrolments", "completions"
            ),
            key=str,
        )

    kept = snapshot()
    assert ("THCSA", None, 5, 5, 2) in kept
    assert ("THCSA", "Em học thư viện số", 3, 3, 1) in kept
    assert rebuild() == len(kept)
    assert snapshot() == kept


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_running_totals_under_concurrent_enrolments(net):
    from courses.models import LibraryTrainingFigures

    teacher, _class_group, students = class_with_students(
        net.school, *[f"Em {n}" for n in range(8)]
    )
    course, _lessons = course_with_quizzes("Song song", lessons=1)
    outcomes = run_together(
        [lambda s=s: enrol(user=s, course=course, by=teacher).pk for s in students]
    )
    assert failures(outcomes) == [] and len(set(outcomes)) == 8
    rows = {
        f.course_id: (f.learners, f.enrolments, f.completions)
        for f in LibraryTrainingFigures.objects.filter(library=net.school)
    }
    assert rows == {course.pk: (8, 8, 0), None: (8, 8, 0)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_student_lands_in_one_open_class_under_concurrency(net):
    from courses.classes import services as classes
    from courses.models import ClassMembership

    teacher = teacher_at(net.school)
    groups = [make_class(net.school, teacher, f"6{letter}") for letter in "ABCD"]
    student = UserFactory()
    outcomes = run_together(
        [
            lambda g=g: classes.add_existing_student(class_group=g, student=student, by=teacher)
            for g in groups
        ]
    )
    errors = failures(outcomes)
    assert len(outcomes) - len(errors) == 1 and len(errors) == 3
    assert {type(e) for e in errors} == {classes.ClassError}
    assert ClassMembership.objects.filter(student=student, left_at=None).count() == 1


def test_class_report_exports_quote_a_formula_typed_as_a_name(client, net):
    teacher, class_group, (student,) = class_with_students(net.school, "=1+1", name="6A/2")
    client.force_login(teacher)
    response = client.get(reverse("courses:class_report_export", args=[class_group.pk, "csv"]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="class-report-6a2.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Student", "Username", "Lessons completed", "Overdue"],
        ["'=1+1", student.username, "0", "0"],
    ]
    response = client.get(reverse("courses:class_report_export", args=[class_group.pk, "xlsx"]))
    assert response["Content-Disposition"] == 'attachment; filename="class-report-6a2.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.title == "6A 2"
    assert [c.value for c in sheet[2]] == ["'=1+1", student.username, 0, 0]
    assert sheet["A2"].data_type == "s"
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    pdf = client.get(reverse("courses:class_report_export", args=[class_group.pk, "pdf"]))
    assert pdf.status_code == 404
