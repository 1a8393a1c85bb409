"""A double click on "accept" in two real threads (PostgreSQL): one account, one membership."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from libraries.models import Invitation, Membership, Role
from libraries.network import invitations
from tests.factories import member
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sach-hay-moi-ngay-2026"


def test_double_click_acceptance_creates_one_account_and_one_membership(tree, mailoutbox):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    invitations.invite_member(
        email="moi@truong.edu.vn", library=tree.child, role=Role.LIBRARIAN, by=admin
    )
    token = re.search(r"/loi-moi/([^/\s]+)/", mailoutbox[-1].body).group(1)
    url = reverse("libraries:invitation", args=[token])
    data = {"display_name": "Lê Văn Minh", "password1": PASSWORD, "password2": PASSWORD}
    users_before = get_user_model().objects.count()

    def click():
        return Client().post(url, data).status_code

    outcomes = run_together([click, click, click])
    assert sorted(outcomes) == [302, 410, 410]
    assert get_user_model().objects.count() == users_before + 1
    user = get_user_model().objects.get(email="moi@truong.edu.vn")
    assert list(Membership.objects.filter(user=user).values_list("library", "role")) == [
        (tree.child.pk, Role.LIBRARIAN)
    ]
    assert EmailAddress.objects.filter(email__iexact="moi@truong.edu.vn").count() == 1
    invitation = Invitation.objects.get()
    assert (invitation.status, invitation.accepted_by) == (Invitation.Status.ACCEPTED, user)


def test_an_existing_account_clicking_twice_gets_one_membership(tree, mailoutbox):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    person = member(tree.own, Role.READER, email="co.lan@example.org")
    invitations.invite_member(
        email="co.lan@example.org", library=tree.child, role=Role.TEACHER, by=admin
    )
    token = re.search(r"/loi-moi/([^/\s]+)/", mailoutbox[-1].body).group(1)
    url = reverse("libraries:invitation", args=[token])

    def click():
        client = Client()
        client.force_login(person)
        return client.post(url).status_code

    outcomes = run_together([click, click])
    assert sorted(outcomes) == [302, 410]
    assert Membership.objects.filter(user=person, library=tree.child, role="teacher").count() == 1
