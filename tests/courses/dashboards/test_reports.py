"""Class report and library dashboard figures, checked against hand-computed values."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from courses.classes import services as classes
from courses.dashboards import reports
from courses.dashboards.charts import bar_chart, line_chart
from courses.models import Assignment, Audience
from courses.training.progress import mark_viewed
from courses.xapi.services import record_statement, submit_quiz
from libraries.models import Role
from tests.courses.classes.factories import (
    HALF,
    RIGHT,
    WRONG,
    add_students,
    answer,
    class_with_students,
    course_with_quizzes,
    make_class,
    network,
    staff_at,
    teacher_at,
    trained_staff,
)
from tests.courses.training.factories import BASE, activity_iri, h5p_block, make_course, make_lesson

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


DUE = date(2026, 3, 1)
H5P_BLOCK = "0b5c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"


def scenario():
    """Class 6A with An, Bình, Cúc; a two-lesson course (pass mark 50) due on DUE.

    An: lesson 1 right (100%), lesson 2 half right (50%, passes): course complete.
    Bình: lesson 1 wrong then right (2 attempts, best 100%); lesson 2 untouched.
    Cúc: opened lesson 1 only.
    """
    net = network()
    teacher, class_group, (an, binh, cuc) = class_with_students(
        net.school, "Nguyễn Văn An", "Trần Bình", "Lê Cúc", display_name="Cô Hạnh"
    )
    course, (l1, l2) = course_with_quizzes("Em học thư viện số", pass_mark=50)
    classes.assign(class_group=class_group, course=course, due_date=DUE, by=teacher)
    answer(an, l1, RIGHT)
    answer(an, l2, HALF)
    answer(binh, l1, WRONG)
    answer(binh, l1, RIGHT)
    mark_viewed(user=cuc, lesson=l1)
    return net, teacher, class_group, (an, binh, cuc), course, (l1, l2)


def test_class_report_matrix_overdue_and_wrong_questions():
    net, teacher, class_group, (an, binh, cuc), course, (l1, l2) = scenario()
    report = reports.class_report(class_group, today=DUE + timedelta(days=1))
    assert [c.lesson.title for c in report.columns] == ["Bài 1", "Bài 2"]
    by_name = {row.student.display_name: row for row in report.rows}
    assert list(by_name) == ["Lê Cúc", "Nguyễn Văn An", "Trần Bình"]
    shape = {
        name: [(c.status, c.percent, c.attempts) for c in row.cells]
        for name, row in by_name.items()
    }
    assert shape == {
        "Nguyễn Văn An": [("completed", 100, 1), ("completed", 50, 1)],
        "Trần Bình": [("completed", 100, 2), ("not_started", None, 0)],
        "Lê Cúc": [("in_progress", None, 0), ("not_started", None, 0)],
    }
    assert {name: row.completed for name, row in by_name.items()} == {
        "Nguyễn Văn An": 2,
        "Trần Bình": 1,
        "Lê Cúc": 0,
    }
    assert sorted(s.display_name for s, _a in report.overdue) == ["Lê Cúc", "Trần Bình"]
    # Before the due date nothing is overdue.
    assert reports.class_report(class_group, today=DUE).overdue == []
    # Native quizzes count by question: Bình's first try on lesson 1 missed both questions
    # (1 student wrong of the 2 who answered each), An missed the second one of lesson 2.
    assert [(q.lesson.title, q.label, q.wrong, q.answered) for q in report.wrong_questions] == [
        ("Bài 1", "Thủ đô của Việt Nam là gì?", 1, 2),
        ("Bài 1", "Chọn các định dạng sách điện tử.", 1, 2),
        ("Bài 2", "Chọn các định dạng sách điện tử.", 1, 1),
    ]


def test_native_quiz_time_and_wrong_answers_count_like_h5p(net):
    """Native quiz answers feed the class report as H5P statements do: time spent per cell,
    and the questions most students got wrong (the whole quiz is not a question)."""
    teacher, class_group, (an, binh, cuc) = class_with_students(
        net.school, "Nguyễn Văn An", "Trần Bình", "Lê Cúc"
    )
    course, (lesson,) = course_with_quizzes("Tra cứu", lessons=1, pass_mark=100)
    classes.assign(class_group=class_group, course=course, by=teacher)
    block_id = lesson.activity_specs()[0].block_id

    def submit(student, answers, seconds):
        mark_viewed(user=student, lesson=lesson)
        submit_quiz(
            user=student,
            lesson=lesson,
            block_id=block_id,
            answers=answers,
            base=BASE,
            seconds=seconds,
        )

    submit(an, WRONG, 90)  # both questions wrong
    submit(an, RIGHT, 45)
    submit(binh, HALF, 3 * 3600)  # a tab left open: counts as the 10-minute allowance
    submit(cuc, HALF, -20)  # a start in the future: no time
    report = reports.class_report(class_group)
    seconds = {row.student.display_name: row.cells[0].seconds for row in report.rows}
    assert seconds == {"Nguyễn Văn An": 135, "Trần Bình": 600, "Lê Cúc": 0}
    assert [(q.label, q.wrong, q.answered) for q in report.wrong_questions] == [
        ("Chọn các định dạng sách điện tử.", 3, 3),
        ("Thủ đô của Việt Nam là gì?", 1, 3),
    ]


def test_time_spent_and_h5p_question_labels(net):
    teacher, class_group, (student,) = class_with_students(net.school, "Phan Hoa")
    course = make_course("H5P")
    block = h5p_block(block_id=H5P_BLOCK)
    lesson = make_lesson(course, title="Bài H5P", blocks=[block])
    classes.assign(class_group=class_group, course=course, by=teacher)
    for n, (duration, success) in enumerate((("PT1M30S", False), ("PT2M", True))):
        record_statement(
            user=student,
            statement={
                "id": f"00000000-0000-4000-8000-00000000000{n}",
                "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
                "object": {
                    "id": activity_iri(lesson, H5P_BLOCK),
                    "definition": {"name": {"en-US": "Sách điện tử là gì?"}},
                },
                "result": {"duration": duration, "success": success, "score": {"scaled": 0.5}},
            },
            base=BASE,
        )
    report = reports.class_report(class_group)
    cell = report.rows[0].cells[0]
    assert cell.seconds == 210 and cell.minutes == 4 and cell.attempts == 2
    assert [(q.label, q.wrong, q.answered) for q in report.wrong_questions] == [
        ("Sách điện tử là gì?", 1, 1)
    ]
    assert reports.duration_seconds("P1DT1H1M1.5S") == 86400 + 3661.5
    assert reports.duration_seconds("nonsense") == 0


def test_class_report_exports(client):
    net, teacher, class_group, students, course, lessons = scenario()
    client.force_login(teacher)
    response = client.get(reverse("courses:class_report_export", args=[class_group.pk, "csv"]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:8] == [
        "Student",
        "Username",
        "Lessons completed",
        "Overdue",
        "Bài 1: status",
        "Bài 1: score %",
        "Bài 1: attempts",
        "Bài 1: minutes",
    ]
    overdue = "1" if timezone.localdate() > DUE else "0"
    assert rows[1:] == [
        [
            "Lê Cúc",
            "cucl1",
            "0",
            overdue,
            "in progress",
            "",
            "0",
            "0.0",
            "not started",
            "",
            "0",
            "0.0",
        ],
        [
            "Nguyễn Văn An",
            "annv1",
            "2",
            "0",
            "completed",
            "100",
            "1",
            "0.0",
            "completed",
            "50",
            "1",
            "0.0",
        ],
        [
            "Trần Bình",
            "binht1",
            "1",
            overdue,
            "completed",
            "100",
            "2",
            "0.0",
            "not started",
            "",
            "0",
            "0.0",
        ],
    ]
    response = client.get(reverse("courses:class_report_export", args=[class_group.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Student"
    assert values[2][:7] == ["Nguyễn Văn An", "annv1", 2, 0, "completed", 100, 1]
    assert (
        client.get(reverse("courses:class_report_export", args=[class_group.pk, "pdf"])).status_code
        == 404
    )


def _grow_class(class_group, teacher, course_lessons, prefix, count):
    students = add_students(class_group, teacher, *[f"{prefix} {n}" for n in range(count)])
    for student in students:
        for lesson in course_lessons:
            answer(student, lesson, WRONG)


def test_class_report_page_has_a_fixed_number_of_queries(client, django_assert_num_queries):
    net, teacher, class_group, students, course, lessons = scenario()
    client.force_login(teacher)
    url = reverse("courses:class_report", args=[class_group.pk])
    client.get(url)  # warm the session
    with django_assert_num_queries(15):
        assert client.get(url).status_code == 200
    _grow_class(class_group, teacher, lessons, "Học sinh", 6)
    other, other_lessons = course_with_quizzes("Khoá hai", lessons=3)
    classes.assign(class_group=class_group, course=other, lesson=other_lessons[0], by=teacher)
    with django_assert_num_queries(15):
        assert client.get(url).status_code == 200


def library_scenario():
    net, teacher, class_group, students, course, lessons = scenario()
    training, (t1,) = course_with_quizzes(
        "Chuyển đổi thư viện số", lessons=1, audience=Audience.LIBRARIANS
    )
    admin = trained_staff(
        net.school, Role.LIBRARY_ADMIN, training, completing=t1, display_name="Bà Quản Trị"
    )
    librarian = trained_staff(net.school, Role.LIBRARIAN, training, display_name="Anh Thủ Thư")
    return net, admin, librarian, class_group, training


def test_library_dashboard_figures():
    net, admin, librarian, class_group, training = library_scenario()
    data = reports.library_dashboard(net.school)
    # Enrolments at the school: 3 students + 2 staff; completed: An's course, the admin's.
    assert data["totals"]["learners"] == 5
    assert data["totals"]["enrolments"] == 5
    assert data["totals"]["completions"] == 2
    assert data["totals"]["completion_rate"] == 40
    assert data["totals"]["certificates"] == 2
    staff = {
        row.membership.user.display_name: [
            (bool(e and e.completed_at), bool(cert)) for _c, e, cert in row.courses
        ]
        for row in data["staff_rows"]
    }
    assert staff == {"Anh Thủ Thư": [(False, False)], "Bà Quản Trị": [(True, True)]}
    (summary,) = data["classes"]
    assert (summary.student_count, summary.assignment_count) == (3, 1)
    assert (summary.enrolments, summary.completions, summary.completion_rate) == (3, 1, 33)
    assert {
        row["course__title"]: (row["enrolments"], row["completions"]) for row in data["by_course"]
    } == {
        "Em học thư viện số": (3, 1),
        "Chuyển đổi thư viện số": (2, 1),
    }
    assert sum(n for _m, n in data["by_month"]) == 2
    assert data["by_month"][-1] == (timezone.localdate().replace(day=1), 2)
    assert data["circulation"] == {"loans_this_month": 0, "active_readers": 0}


def test_library_dashboard_counts_this_months_loans_and_readers():
    from tests.libraries.catalog.factories import ItemFactory
    from tests.libraries.circulation.factories import PatronFactory, lend

    net, admin, librarian, class_group, training = library_scenario()
    readers = [PatronFactory(home_library=net.school) for _ in range(2)]
    items = [ItemFactory(library=net.school) for _ in range(3)]
    last_month = timezone.now() - timedelta(days=40)
    for item, reader, when in [
        (items[0], readers[0], None),
        (items[1], readers[0], None),
        (items[2], readers[1], last_month),
    ]:
        lend(item, reader, by=librarian, now=when)
    other = ItemFactory(library=net.other_school)
    lend(other, PatronFactory(home_library=net.other_school), by=staff_at(net.other_school))
    data = reports.library_dashboard(net.school)
    assert data["circulation"] == {"loans_this_month": 2, "active_readers": 1}


def test_library_dashboard_page_queries_and_scope(client, django_assert_num_queries):
    net, admin, librarian, class_group, training = library_scenario()
    url = reverse("courses:library_dashboard", args=["thcsa"])
    client.force_login(admin)
    client.get(url)
    with django_assert_num_queries(20):
        response = client.get(url)
    html = response.content.decode()
    assert "Bà Quản Trị" in html and "<svg" in html and "Completions by course" in html
    make_class(net.school, admin, "7B")
    _grow_class(class_group, admin, [], "Thêm", 4)
    trained_staff(net.school, Role.LIBRARIAN, training)
    with django_assert_num_queries(20):
        client.get(url)
    client.force_login(staff_at(net.other_school))
    assert client.get(url).status_code == 403
    client.force_login(teacher_at(net.school))
    assert client.get(url).status_code == 403
    # The district admin drills down to the school: classes without links to student reports.
    client.force_login(staff_at(net.district))
    html = client.get(url).content.decode()
    assert "6A" in html and reverse("courses:class_report", args=[class_group.pk]) not in html
    assert "Nguyễn Văn An" not in html


def test_charts_are_accessible_svg():
    svg = bar_chart([("Khoá <1>", 3), ("Khoá 2", 1.5)], title="Hoàn thành", desc="Theo khoá")
    assert svg.startswith("<svg") and "<title" in svg and "<desc" in svg
    assert "Khoá &lt;1&gt;" in svg and ">1.5<" in svg
    line = line_chart([("01/2026", 0), ("02/2026", 4)], title="T", desc="D")
    assert "<polyline" in line and line.count("<circle") == 2


def test_archived_class_keeps_its_report_and_leaves_my_assignments(client):
    net, teacher, class_group, (an, binh, cuc), course, lessons = scenario()
    classes.archive_class(class_group=class_group)
    report = reports.class_report(class_group, today=DUE)
    assert [row.student.display_name for row in report.rows] == [
        "Lê Cúc",
        "Nguyễn Văn An",
        "Trần Bình",
    ]
    assert [c.status for c in report.rows[1].cells] == ["completed", "completed"]
    assert list(Assignment.objects.open_for_student(an)) == []
    # Next year's class: the old report still lists only the students it had.
    next_year = make_class(net.school, teacher, "7A", "2027-2028")
    classes.add_existing_student(class_group=next_year, student=an, by=teacher)
    assert len(reports.class_report(class_group, today=DUE).rows) == 3
    assert [r.student for r in reports.class_report(next_year).rows] == [an]
