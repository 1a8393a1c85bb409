"""The staff audit log of enrolments and certificates (courses/training/progress.py and
certificates.py): a group enrolment logs one entry per new enrolment in one batch, on the
learner's library; a revocation logs its reason on the certificate's library; refusals and
learners' own enrolments write nothing. Replayed over HTTP."""

import pytest
from django.test import Client
from django.urls import reverse

from courses.models import Certificate, Enrollment
from courses.training.certificates import CERTIFICATE_REVOKE_ACTION
from courses.training.progress import ENROLMENT_CREATE_ACTION
from libraries.models import Role
from tests.courses.audit.support import batches, entries_since, mark, rows_since
from tests.courses.classes.factories import class_with_students, staff_at
from tests.courses.training.factories import make_course, make_lesson
from tests.courses.training.staff import (
    assert_sent_to_login,
    certificate_row,
    certified,
    learner_at,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ENROL = "training_group_enrolment:enrol"


@pytest.fixture
def course():
    course = make_course(title="Tra cứu", self_enrolment=False)
    make_lesson(course)
    return course


def enrolment_rows():
    return sorted(Enrollment.objects.values_list("pk", "user_id", "course_id", "enrolled_by_id"))


def test_a_group_enrolment_logs_each_new_enrolment_in_one_batch(client, net, course):
    _teacher, class_group, (an, binh) = class_with_students(net.school, "An", "Bình")
    reader = learner_at(net.school, username="ban.doc")
    librarian = staff_at(net.school, Role.LIBRARIAN)
    client.force_login(librarian)
    marker = mark()
    data = {"course": course.pk, "class_group": class_group.pk, "people": "ban.doc"}
    assert client.post(reverse(ENROL), data).status_code == 302
    by_user = dict(Enrollment.objects.values_list("user_id", "pk"))
    school = net.school.pk
    assert rows_since(marker) == [
        (ENROLMENT_CREATE_ACTION, librarian.pk, Enrollment, by_user[learner.pk],
         {"before": {}, "after": {"user": learner.pk, "course": course.pk, "library": school},
          "library": school})
        for learner in sorted([an, binh, reader], key=lambda u: u.pk)
    ]  # fmt: skip
    entries = entries_since(marker)
    assert len(batches(entries)) == 1 and None not in batches(entries)
    # Sent again: nobody is enrolled anew, nothing is logged.
    marker, before = mark(), enrolment_rows()
    assert client.post(reverse(ENROL), data).status_code == 302
    assert enrolment_rows() == before
    assert entries_since(marker) == []


def test_a_group_enrolment_on_the_learners_library(client, tree, course):
    """A district librarian enrols a reader of a school below: the entry is the school's."""
    reader = learner_at(tree.child, username="doc.gia")
    librarian = learner_at(tree.own, Role.LIBRARIAN)
    client.force_login(librarian)
    marker = mark()
    response = client.post(reverse(ENROL), {"course": course.pk, "people": "doc.gia"})
    assert response.status_code == 302
    enrolment = Enrollment.objects.get(user=reader)
    assert rows_since(marker) == [
        (ENROLMENT_CREATE_ACTION, librarian.pk, Enrollment, enrolment.pk,
         {"before": {}, "after": {"user": reader.pk, "course": course.pk,
                                  "library": tree.child.pk},
          "library": tree.child.pk}),
    ]  # fmt: skip


def test_enrolling_someone_out_of_reach_writes_nothing(client, tree, course):
    learner_at(tree.sibling, username="xa.la")
    client.force_login(learner_at(tree.own, Role.LIBRARY_ADMIN))
    marker, before = mark(), enrolment_rows()
    response = client.post(reverse(ENROL), {"course": course.pk, "people": "xa.la"})
    assert response.status_code == 200
    assert response.context["form"].errors["people"]
    assert enrolment_rows() == before
    assert entries_since(marker) == []


def test_a_teacher_may_not_enrol_a_group_and_nothing_is_logged(client, net, course):
    teacher, class_group, _students = class_with_students(net.school, "An")
    client.force_login(teacher)
    marker, before = mark(), enrolment_rows()
    response = client.post(reverse(ENROL), {"course": course.pk, "class_group": class_group.pk})
    assert_sent_to_login(response)  # not staff: the staff area sends them to log in
    assert enrolment_rows() == before
    assert entries_since(marker) == []


def test_a_learner_enrolling_themselves_is_not_a_staff_change(client, net):
    course = make_course(title="Mở", self_enrolment=True)
    make_lesson(course)
    reader = learner_at(net.school)
    client.force_login(reader)
    marker = mark()
    response = client.post(reverse("courses:enrol", args=[course.pk]))
    assert response.status_code == 302
    assert Enrollment.objects.filter(user=reader, course=course).exists()
    assert entries_since(marker) == []


def test_revoking_a_certificate_logs_the_reason(client, tree):
    certificate = certified(learner_at(tree.child, display_name="Người học"))
    admin = learner_at(tree.own, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    marker = mark()
    response = client.post(
        reverse("training_certificates:revoke", args=[certificate.pk]),
        {"reason": "not_earned", "note": "Ghi chú cho cán bộ."},
    )
    assert response.status_code == 302
    assert Certificate.objects.get(pk=certificate.pk).revoked_reason == "not_earned"
    assert rows_since(marker) == [
        (CERTIFICATE_REVOKE_ACTION, admin.pk, Certificate, certificate.pk,
         {"before": {"revoked_reason": ""}, "after": {"revoked_reason": "not_earned"},
          "library": tree.child.pk}),
    ]  # fmt: skip
    # The second revocation is refused: nothing more is logged.
    marker, row = mark(), certificate_row(certificate)
    client.post(
        reverse("training_certificates:revoke", args=[certificate.pk]),
        {"reason": "duplicate"},
    )
    assert certificate_row(certificate) == row
    assert entries_since(marker) == []


@pytest.mark.parametrize(
    ("role", "where", "status"),
    [(Role.LIBRARIAN, "own", 403), (Role.LIBRARY_ADMIN, "sibling", 404)],
    ids=["librarian", "other-district-admin"],
)
def test_a_refused_revocation_writes_nothing(client, tree, role, where, status):
    certificate = certified(learner_at(tree.child))
    client.force_login(learner_at(tree.target(where), role))
    marker, row = mark(), certificate_row(certificate)
    response = client.post(
        reverse("training_certificates:revoke", args=[certificate.pk]), {"reason": "not_earned"}
    )
    assert response.status_code == status
    assert certificate_row(certificate) == row
    assert entries_since(marker) == []


def test_revoking_without_the_csrf_token_writes_nothing(tree):
    certificate = certified(learner_at(tree.child))
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner_at(tree.own, Role.LIBRARY_ADMIN))
    marker, row = mark(), certificate_row(certificate)
    response = client.post(
        reverse("training_certificates:revoke", args=[certificate.pk]), {"reason": "not_earned"}
    )
    assert response.status_code == 403
    assert certificate_row(certificate) == row
    assert entries_since(marker) == []
