"""Enrolments in the staff area (courses/training/admin.py): the list, its filters and a
learner's progress lesson by lesson, in the permission matrix of the network screens."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Enrollment
from courses.training.progress import mark_viewed
from libraries.models import Role
from tests.courses.classes.factories import RIGHT, answer, course_with_quizzes
from tests.courses.training.factories import make_course, make_lesson
from tests.courses.training.staff import (
    STAFF,
    assert_outcome,
    assert_sent_to_login,
    by_role,
    enrolled,
    learner_at,
    matrix,
    view_outcome,
)
from tests.libraries.conftest import TARGETS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

INDEX = "training_enrolments:index"


@pytest.fixture
def enrolments(tree):
    """One reader of each target library enrolled in one course."""
    course = make_course(title="Kỹ năng tra cứu")
    make_lesson(course)
    return {
        name: enrolled(learner_at(tree.target(name), username=f"learner_{name}"), course)
        for name in TARGETS
    }


def listed(response) -> set[str]:
    return {e.user.username for e in response.context["object_list"]}


@by_role
def test_index_lists_the_learners_within_reach(member_client, enrolments, role):
    client, _user = member_client(role)
    response = client.get(reverse(INDEX))
    if role not in STAFF:
        assert_sent_to_login(response)
        return
    assert response.status_code == 200
    assert listed(response) == {"learner_own", "learner_child"}


@matrix
def test_learner_progress_page(member_client, enrolments, role, target):
    client, _user = member_client(role)
    enrollment = enrolments[target]
    response = client.get(reverse("training_enrolments:inspect", args=[enrollment.pk]))
    assert_outcome(response, view_outcome(role, target))
    if view_outcome(role, target) == "ok":
        assert f"learner_{target}" in response.content.decode()


@matrix
def test_generic_add_edit_delete_are_refused_to_everyone(member_client, enrolments, role, target):
    client, _user = member_client(role)
    enrollment = enrolments[target]
    before = list(Enrollment.objects.order_by("pk").values())
    for url in (
        reverse("training_enrolments:add"),
        reverse("training_enrolments:edit", args=[enrollment.pk]),
        reverse("training_enrolments:delete", args=[enrollment.pk]),
    ):
        response = client.post(url, {"course": enrollment.course_id})
        if role not in STAFF:
            assert_sent_to_login(response)
        else:
            assert response.status_code in (403, 404)
    assert list(Enrollment.objects.order_by("pk").values()) == before


def test_a_student_is_listed_only_for_the_staff_of_their_school(client, tree):
    """Children's names stay at their school: the district's staff do not see them."""
    course = make_course()
    make_lesson(course)
    student = learner_at(tree.child, Role.STUDENT, username="hocsinh")
    enrollment = enrolled(student, course)
    district = learner_at(tree.own, Role.LIBRARY_ADMIN)
    school = learner_at(tree.child, Role.LIBRARIAN)

    client.force_login(district)
    assert listed(client.get(reverse(INDEX))) == set()
    url = reverse("training_enrolments:inspect", args=[enrollment.pk])
    assert client.get(url).status_code == 404

    client.force_login(school)
    assert listed(client.get(reverse(INDEX))) == {"hocsinh"}
    assert client.get(url).status_code == 200


def test_filters_by_library_course_and_status(client, tree):
    staff = learner_at(tree.own, Role.LIBRARIAN)
    course, (first, second) = course_with_quizzes("Tra cứu", lessons=2)
    other = make_course(title="Khác")
    make_lesson(other)
    done = learner_at(tree.own, username="xong")
    started = learner_at(tree.child, username="dang_hoc")
    idle = learner_at(tree.child, username="chua_hoc")
    for learner in (done, started, idle):
        enrolled(learner, course)
    enrolled(idle, other)
    answer(done, first, RIGHT)
    answer(done, second, RIGHT)
    mark_viewed(user=started, lesson=first)

    client.force_login(staff)

    def names(**query):
        response = client.get(reverse(INDEX), query)
        assert response.status_code == 200
        return sorted((e.user.username, e.course.title) for e in response.context["object_list"])

    assert names(course=course.pk, status="completed") == [("xong", "Tra cứu")]
    assert names(course=course.pk, status="in_progress") == [("dang_hoc", "Tra cứu")]
    assert names(status="not_started") == [("chua_hoc", "Khác"), ("chua_hoc", "Tra cứu")]
    assert names(library=tree.child.pk, course=course.pk) == [
        ("chua_hoc", "Tra cứu"),
        ("dang_hoc", "Tra cứu"),
    ]
    assert names(q="dang") == [("dang_hoc", "Tra cứu")]
    # A library out of reach is no choice of the filter: the list is not narrowed to it.
    response = client.get(reverse(INDEX), {"library": tree.sibling.pk})
    assert response.context["filters"].errors


def test_progress_page_shows_each_lesson(client, tree):
    staff = learner_at(tree.own, Role.LIBRARIAN)
    course, (first, second) = course_with_quizzes("Tra cứu", lessons=2, pass_mark=50)
    learner = learner_at(tree.own, display_name="Lê Thị Hoa", username="hoa")
    enrollment = enrolled(learner, course)
    answer(learner, first, RIGHT)
    client.force_login(staff)
    index = client.get(reverse(INDEX)).content.decode()
    inspect_url = reverse("training_enrolments:inspect", args=[enrollment.pk])
    assert f'href="{inspect_url}"' in index  # each row opens the learner's progress
    response = client.get(inspect_url)
    rows = [(row.lesson.title, row.status) for row in response.context["lessons"]]
    assert rows == [("Bài 1", "completed"), ("Bài 2", "not_started")]
    first_row = response.context["lessons"][0]
    assert (first_row.progress.best_score, first_row.progress.attempts) == (1.0, 1)
    assert [(a.kind, a.best_score, a.passed) for a in first_row.activities] == [("quiz", 1.0, True)]
    html = response.content.decode()
    assert "Lê Thị Hoa (hoa)" in html
    assert "1/2 (50%)" in html
    assert 'data-status="completed"' in html and 'data-status="not_started"' in html


def test_the_list_costs_the_same_queries_for_more_rows(client, tree):
    staff = learner_at(tree.own, Role.LIBRARIAN)
    client.force_login(staff)
    course = make_course()
    make_lesson(course)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(INDEX)).status_code == 200
        return len(captured)

    enrolled(learner_at(tree.own), course)
    few = queries()
    for _ in range(4):
        enrolled(learner_at(tree.child), make_course(title="Khác"))
    assert queries() == few
