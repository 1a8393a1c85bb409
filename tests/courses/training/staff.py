"""The permission matrix of the training staff screens: every role at the "own" district
library HBT, against rows at own / child (a school below) / sibling (the neighbouring
district) / parent (the province). The tree and the logged-in member are those of the
network screens' matrix (tests/libraries/conftest.py)."""

import pytest

from courses.models import Certificate, Enrollment
from courses.training.certificates import issue_certificate
from courses.training.progress import enrol, mark_viewed
from libraries.models import Membership, Role
from tests.courses.training.factories import make_course, make_lesson
from tests.factories import UserFactory
from tests.libraries.conftest import ALL_ROLES, TARGETS, Tree

STAFF = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN, Role.LIBRARIAN}
ADMINS = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN}


def role_id(role):
    return role or "anonymous"


matrix = pytest.mark.parametrize(
    ("role", "target"),
    [(role, target) for role in ALL_ROLES for target in TARGETS],
    ids=[f"{role_id(role)}-{target}" for role in ALL_ROLES for target in TARGETS],
)
by_role = pytest.mark.parametrize("role", ALL_ROLES, ids=[role_id(r) for r in ALL_ROLES])


@pytest.fixture
def tree(db):
    return Tree()


@pytest.fixture
def member_client(client, tree):
    """Log in a fresh user holding `role` at the "own" library (None: stay anonymous)."""

    def make(role):
        if role is None:
            return client, None
        user = UserFactory()
        Membership.objects.create(user=user, library=tree.own, role=role)
        client.force_login(user)
        return client, user

    return make


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def view_outcome(role, target) -> str:
    """Opening a row at `target`: ok for staff within reach, not_found beyond, login without
    admin access."""
    if role not in STAFF:
        return "login"
    return "ok" if target in ("own", "child") else "not_found"


def assert_outcome(response, outcome, ok_status=200):
    if outcome == "login":
        assert_sent_to_login(response)
    elif outcome == "not_found":
        assert response.status_code == 404
    elif outcome == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code == ok_status, response.content[:500]


def learner_at(library, role=Role.READER, **user_fields):
    """A new account with `role` at `library` (its library for enrolments)."""
    user = UserFactory(**user_fields)
    Membership.objects.create(user=user, library=library, role=role)
    return user


def enrolled(learner, course=None) -> Enrollment:
    course = course or make_course(title="Kỹ năng tra cứu")
    if not course.get_children().exists():
        make_lesson(course, title="Bài 1")
        make_lesson(course, title="Bài 2")
    return enrol(user=learner, course=course)


def certified(learner, title="Thư viện số cho mọi người") -> Certificate:
    """A certificate of a one-lesson course the learner completed."""
    course = make_course(title=title, certificate_enabled=False)
    lesson = make_lesson(course)
    enrol(user=learner, course=course)
    mark_viewed(user=learner, lesson=lesson)
    return issue_certificate(user=learner, course=course)


def certificate_row(certificate) -> dict:
    return Certificate.objects.filter(pk=certificate.pk).values().get()
