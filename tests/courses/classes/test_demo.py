import io

import pytest

from courses.classes import demo as demo_classes
from courses.models import Assignment, ClassGroup, ClassMembership, Enrollment, LessonProgress
from libraries.models import Role
from tests.courses.classes.factories import course_with_quizzes
from tests.factories import LibraryFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def counts():
    return (
        ClassGroup.objects.count(),
        ClassMembership.objects.count(),
        Assignment.objects.count(),
        Enrollment.objects.count(),
        LessonProgress.objects.count(),
    )


def test_demo_classes_skip_without_teacher():
    out = io.StringIO()
    demo_classes.load(stdout=out)
    assert "skipped" in out.getvalue()
    assert not ClassGroup.objects.exists()


def test_demo_classes_build_once(net):
    LibraryFactory(code="THPTC", name="THPT C", parent=net.district)
    teacher = UserFactory(username="giaovien")
    MembershipFactory(user=teacher, library=net.school, role=Role.TEACHER)
    hocsinh = UserFactory(username="hocsinh")
    MembershipFactory(user=hocsinh, library=net.school, role=Role.STUDENT)
    MembershipFactory(library=net.school, role=Role.LIBRARIAN)
    course_with_quizzes("Em làm quen với thư viện số", lessons=2, pass_mark=50)
    course_with_quizzes("Chuyển đổi số", lessons=1, audience="librarians")
    demo_classes.load(stdout=io.StringIO())
    first = counts()
    # 2 classes; 6 + hocsinh at THCSA, 4 at THPTC; a course and a lesson assigned to each.
    assert first[:3] == (2, 11, 4)
    assert ClassMembership.objects.filter(student=hocsinh, class_group__name="6A").exists()
    assert LessonProgress.objects.filter(completed_at__isnull=False).exists()
    assert Enrollment.objects.filter(course__title="Chuyển đổi số").count() == 1
    demo_classes.load(stdout=io.StringIO())
    assert counts() == first


def test_demo_classes_on_the_demo_courses(net):
    from courses.dashboards.reports import class_report
    from courses.training import demo as demo_training

    teacher = UserFactory(username="giaovien")
    MembershipFactory(user=teacher, library=net.school, role=Role.TEACHER)
    demo_training.load(stdout=io.StringIO())
    demo_classes.load(stdout=io.StringIO())
    class_group = ClassGroup.objects.get(name="6A")
    report = class_report(class_group)
    assert len(report.rows) == 6 and report.columns
    statuses = {cell.status for row in report.rows for cell in row.cells}
    assert {"completed", "not_started"} <= statuses
