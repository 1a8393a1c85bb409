"""The invitation screens (libraries/network/admin.py, InvitationViewSet): every role x own /
child / sibling / parent library over HTTP; refused requests store nothing and send nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from libraries.models import Invitation, Role
from libraries.network import invitations
from tests.factories import member
from tests.libraries.conftest import ALL_ROLES, TARGETS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ADMINS = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN}
NO_ADMIN_ACCESS = {Role.TEACHER, Role.STUDENT, Role.READER, None}
matrix = pytest.mark.parametrize(
    ("role", "target"),
    [(role, target) for role in ALL_ROLES for target in TARGETS],
    ids=[f"{role or 'anonymous'}-{target}" for role in ALL_ROLES for target in TARGETS],
)


def outcome(role, target) -> str:
    if role in NO_ADMIN_ACCESS:
        return "login"
    if role not in ADMINS:
        return "forbidden"  # librarians open the staff area, not this screen
    return "ok" if target in ("own", "child") else "out_of_reach"


def assert_refused(response, expected):
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif expected == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code == 404


def rows() -> list[tuple]:
    return list(
        Invitation.objects.order_by("pk").values_list(
            "pk", "email", "library_id", "role", "status", "secret_hash", "expires_at"
        )
    )


@pytest.fixture
def waiting(tree):
    """A waiting invitation to each target library, sent by a network admin at the top."""
    boss = member(tree.province, Role.NETWORK_ADMIN)
    return {
        name: invitations.invite_member(
            email=f"{name}@example.org", library=tree.target(name), role=Role.READER, by=boss
        )
        for name in TARGETS
    }


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
def test_invitation_list_shows_the_libraries_administered(member_client, waiting, role):
    client, _user = member_client(role)
    response = client.get(reverse("network_invitations:index"))
    expected = outcome(role, "own")
    if expected != "ok":
        assert_refused(response, expected)
        return
    assert response.status_code == 200
    assert {i.email for i in response.context["invitations"]} == {
        "own@example.org",
        "child@example.org",
    }


@matrix
def test_invite_at_target(member_client, tree, role, target, mailoutbox,
                          django_capture_on_commit_callbacks):  # fmt: skip
    client, user = member_client(role)
    data = {"email": "Moi@Example.org", "full_name": "", "library": tree.target(target).pk,
            "role": Role.LIBRARIAN}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("network_invitations:add"), data)
    expected = outcome(role, target)
    if expected == "ok":
        assert response.status_code == 302
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.library, invitation.role, invitation.invited_by) == (
            "moi@example.org",
            tree.target(target),
            Role.LIBRARIAN,
            user,
        )
        assert [m.to for m in mailoutbox] == [["moi@example.org"]]
        return
    if expected == "out_of_reach":  # the form offers only libraries the user administers
        assert response.status_code == 200
        assert response.context["form"].errors["library"]
    else:
        assert_refused(response, expected)
    assert rows() == []
    assert mailoutbox == []


@matrix
def test_resend_at_target(member_client, waiting, role, target, mailoutbox,
                          django_capture_on_commit_callbacks):  # fmt: skip
    client, _user = member_client(role)
    invitation = waiting[target]
    before = rows()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("network_invitations:resend", args=[invitation.pk]))
    expected = outcome(role, target)
    if expected == "ok":
        assert response.status_code == 302
        after = {row[0]: row for row in rows()}
        assert after[invitation.pk][5] != {r[0]: r for r in before}[invitation.pk][5]
        assert [r for r in rows() if r[0] != invitation.pk] == [
            r for r in before if r[0] != invitation.pk
        ]
        assert [m.to for m in mailoutbox] == [[invitation.email]]
        return
    assert_refused(response, expected)
    assert rows() == before
    assert mailoutbox == []


@matrix
def test_revoke_at_target(member_client, waiting, role, target):
    client, _user = member_client(role)
    invitation = waiting[target]
    before = rows()
    response = client.post(reverse("network_invitations:revoke", args=[invitation.pk]))
    expected = outcome(role, target)
    if expected == "ok":
        assert response.status_code == 302
        revoked = [(*r[:4], "revoked", *r[5:]) if r[0] == invitation.pk else r for r in before]
        assert rows() == revoked
        return
    assert_refused(response, expected)
    assert rows() == before


def test_a_role_above_ones_own_is_refused(member_client, tree, mailoutbox):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    form = client.get(reverse("network_invitations:add")).context["form"]
    assert Role.NETWORK_ADMIN not in dict(form.fields["role"].choices)
    data = {"email": "sep@example.org", "library": tree.child.pk, "role": Role.NETWORK_ADMIN}
    response = client.post(reverse("network_invitations:add"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert rows() == [] and mailoutbox == []


def test_a_library_admin_may_invite_another_library_admin(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    data = {"email": "pho@example.org", "library": tree.child.pk, "role": Role.LIBRARY_ADMIN}
    assert client.post(reverse("network_invitations:add"), data).status_code == 302
    assert Invitation.objects.get().role == Role.LIBRARY_ADMIN


def test_get_does_not_resend_or_revoke(member_client, waiting):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    before = rows()
    for name in ("resend", "revoke"):
        url = reverse(f"network_invitations:{name}", args=[waiting["own"].pk])
        assert client.get(url).status_code == 405
    assert rows() == before


def test_invitation_screens_need_the_csrf_token(tree, waiting, mailoutbox):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    before = rows()
    data = {"email": "x@example.org", "library": tree.own.pk, "role": Role.READER}
    assert client.post(reverse("network_invitations:add"), data).status_code == 403
    for name in ("resend", "revoke"):
        url = reverse(f"network_invitations:{name}", args=[waiting["own"].pk])
        assert client.post(url).status_code == 403
    assert rows() == before


def test_expired_invitations_say_so_and_can_be_sent_again(member_client, waiting):
    import datetime

    from django.utils import timezone

    client, _user = member_client(Role.LIBRARY_ADMIN)
    Invitation.objects.filter(pk=waiting["own"].pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    page = client.get(reverse("network_invitations:index")).content.decode()
    assert "Expired" in page
    client.post(reverse("network_invitations:resend", args=[waiting["own"].pk]))
    waiting["own"].refresh_from_db()
    assert not waiting["own"].is_expired()


@pytest.mark.parametrize(("role", "shown"), [(Role.LIBRARY_ADMIN, True), (Role.LIBRARIAN, False)])
def test_admin_menu_offers_invitations_to_admins(member_client, role, shown):
    client, _user = member_client(role)
    content = client.get("/admin/").content.decode()
    assert (f'"{reverse("network_invitations:index")}"' in content) is shown
