"""Certificates in the staff area (courses/training/admin.py): list, search, open, revoke, in
the permission matrix of the network screens; refused revocations change nothing."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Certificate
from libraries.models import Role
from tests.courses.training.staff import (
    ADMINS,
    STAFF,
    assert_outcome,
    assert_sent_to_login,
    by_role,
    certificate_row,
    certified,
    learner_at,
    matrix,
    view_outcome,
)
from tests.libraries.conftest import TARGETS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

INDEX = "training_certificates:index"


@pytest.fixture
def certificates(tree):
    """A certificate of one reader of each target library."""
    return {
        name: certified(
            learner_at(tree.target(name), username=f"learner_{name}", display_name=f"Người {name}")
        )
        for name in TARGETS
    }


def revoke_outcome(role, target) -> str:
    if role not in STAFF:
        return "login"
    if target not in ("own", "child"):
        return "not_found"
    return "ok" if role in ADMINS else "forbidden"


def listed(response) -> set[str]:
    return {c.learner_name for c in response.context["object_list"]}


@by_role
def test_index_lists_the_certificates_within_reach(member_client, certificates, role):
    client, _user = member_client(role)
    response = client.get(reverse(INDEX))
    if role not in STAFF:
        assert_sent_to_login(response)
        return
    assert response.status_code == 200
    assert listed(response) == {"Người own", "Người child"}


@matrix
def test_certificate_page(member_client, certificates, role, target):
    client, _user = member_client(role)
    certificate = certificates[target]
    response = client.get(reverse("training_certificates:inspect", args=[certificate.pk]))
    assert_outcome(response, view_outcome(role, target))
    if view_outcome(role, target) == "ok":
        html = response.content.decode()
        assert certificate.code in html
        # The revoke form is offered to those who may revoke, and only to them.
        assert ("Revoke this certificate" in html) == (role in ADMINS)


@matrix
def test_revoke(member_client, certificates, role, target):
    client, user = member_client(role)
    certificate = certificates[target]
    before = {name: certificate_row(c) for name, c in certificates.items()}
    response = client.post(
        reverse("training_certificates:revoke", args=[certificate.pk]),
        {"reason": "issued_in_error", "note": "Cấp nhầm khoá học."},
    )
    outcome = revoke_outcome(role, target)
    assert_outcome(response, outcome, ok_status=302)
    after = {name: certificate_row(c) for name, c in certificates.items()}
    if outcome == "ok":
        changed = after.pop(target)
        assert changed["revoked_at"] is not None
        assert (changed["revoked_reason"], changed["revoked_note"], changed["revoked_by_id"]) == (
            "issued_in_error",
            "Cấp nhầm khoá học.",
            user.pk,
        )
        before.pop(target)
    assert after == before


def test_search_by_code_name_or_course(client, tree):
    staff = learner_at(tree.own, Role.LIBRARIAN)
    first = certified(learner_at(tree.own, display_name="Trần Văn Bình"), title="Mượn trả sách")
    second = certified(learner_at(tree.child, display_name="Lê Thị Hoa"), title="Tra cứu OPAC")
    client.force_login(staff)

    def found(query):
        response = client.get(reverse(INDEX), {"q": query})
        assert response.status_code == 200
        return {c.pk for c in response.context["object_list"]}

    index = client.get(reverse(INDEX)).content.decode()
    assert f'href="{reverse("training_certificates:inspect", args=[first.pk])}"' in index
    assert found(first.code) == {first.pk}
    assert found(second.code.lower()) == {second.pk}
    assert found("Lê Thị") == {second.pk}
    assert found("OPAC") == {second.pk}
    assert found("không có ai") == set()


def test_a_students_certificate_is_seen_only_at_their_school(client, tree):
    certificate = certified(learner_at(tree.child, Role.STUDENT, display_name="Em Nhi"))
    url = reverse("training_certificates:inspect", args=[certificate.pk])
    client.force_login(learner_at(tree.own, Role.LIBRARY_ADMIN))
    assert listed(client.get(reverse(INDEX))) == set()
    assert client.get(url).status_code == 404
    before = certificate_row(certificate)
    response = client.post(
        reverse("training_certificates:revoke", args=[certificate.pk]), {"reason": "other"}
    )
    assert response.status_code == 404
    assert certificate_row(certificate) == before

    pdf = reverse("courses:certificate_download", args=[certificate.code])
    assert client.get(pdf).status_code == 403  # nor its PDF, which carries the name

    client.force_login(learner_at(tree.child, Role.LIBRARY_ADMIN))
    assert listed(client.get(reverse(INDEX))) == {"Em Nhi"}
    assert client.get(url).status_code == 200
    assert client.get(pdf).status_code == 200


def test_revoking_twice_is_refused_and_changes_nothing(client, tree):
    admin = learner_at(tree.own, Role.LIBRARY_ADMIN)
    certificate = certified(learner_at(tree.own))
    url = reverse("training_certificates:revoke", args=[certificate.pk])
    client.force_login(admin)
    client.post(url, {"reason": "not_earned", "note": "Bài làm không phải của học viên."})
    first = certificate_row(certificate)
    assert first["revoked_reason"] == "not_earned"

    response = client.post(url, {"reason": "duplicate", "note": "Lần hai"}, follow=True)
    assert certificate_row(certificate) == first
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("This certificate was already revoked on ") for m in messages)
    # The page no longer offers the form.
    assert response.context["revoke_form"] is None


def test_a_reason_is_required(client, tree):
    admin = learner_at(tree.own, Role.LIBRARY_ADMIN)
    certificate = certified(learner_at(tree.own))
    before = certificate_row(certificate)
    client.force_login(admin)
    url = reverse("training_certificates:revoke", args=[certificate.pk])
    for data in ({}, {"reason": ""}, {"reason": "because"}):
        response = client.post(url, data, follow=True)
        assert [str(m) for m in response.context["messages"]] == [
            "Choose the reason for revoking the certificate."
        ]
    assert certificate_row(certificate) == before


def test_revoking_without_the_csrf_token_is_refused(tree):
    admin = learner_at(tree.own, Role.LIBRARY_ADMIN)
    certificate = certified(learner_at(tree.own))
    before = certificate_row(certificate)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(
        reverse("training_certificates:revoke", args=[certificate.pk]), {"reason": "other"}
    )
    assert response.status_code == 403
    assert certificate_row(certificate) == before


def test_revoking_is_post_only(client, tree):
    admin = learner_at(tree.own, Role.LIBRARY_ADMIN)
    certificate = certified(learner_at(tree.own))
    client.force_login(admin)
    url = reverse("training_certificates:revoke", args=[certificate.pk]) + "?reason=other"
    assert client.get(url).status_code == 405
    assert Certificate.objects.get(pk=certificate.pk).revoked_at is None


@matrix
def test_generic_edit_and_delete_are_refused(member_client, certificates, role, target):
    client, _user = member_client(role)
    certificate = certificates[target]
    before = certificate_row(certificate)
    for url in (
        reverse("training_certificates:edit", args=[certificate.pk]),
        reverse("training_certificates:delete", args=[certificate.pk]),
    ):
        response = client.post(url, {"learner_name": "Tên giả"})
        if role not in STAFF:
            assert_sent_to_login(response)
        else:
            assert response.status_code in (403, 404)
    assert certificate_row(certificate) == before


def test_the_list_costs_the_same_queries_for_more_rows(client, tree):
    staff = learner_at(tree.own, Role.LIBRARIAN)
    client.force_login(staff)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(INDEX)).status_code == 200
        return len(captured)

    certified(learner_at(tree.own))
    few = queries()
    for n in range(4):
        certified(learner_at(tree.child), title=f"Khoá {n}")
    assert queries() == few
