"""Members by invitation (libraries/network/invitations.py and the acceptance page): the link,
its expiry, reuse, withdrawal and replacement, new and existing accounts."""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from libraries.models import Invitation, Membership, Role
from libraries.network import invitations
from tests.factories import PASSWORD, UserFactory, member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Sach-hay-moi-ngay-2026"


@pytest.fixture
def admin(tree):
    return member(tree.own, Role.LIBRARY_ADMIN, username="quanly", display_name="Cô Hằng")


@pytest.fixture
def invite(tree, admin, mailoutbox, django_capture_on_commit_callbacks):
    """Invite `email` (a librarian at the child school unless told) and return the invitation
    with the token of the link that was emailed."""

    def make(email="moi@truong.edu.vn", *, library=None, role=Role.LIBRARIAN, full_name=""):
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invitations.invite_member(
                email=email,
                library=library or tree.child,
                role=role,
                by=admin,
                full_name=full_name,
            )
        return invitation, token_in(mailoutbox[-1].body)

    return make


def token_in(body: str) -> str:
    return re.search(r"/loi-moi/([^/\s]+)/", body).group(1)


def url(token: str) -> str:
    return reverse("libraries:invitation", args=[token])


def new_account(**changes):
    return {"display_name": "Lê Văn Minh", "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD, **changes}  # fmt: skip


def state() -> tuple:
    """What an acceptance may change: accounts, addresses, memberships, invitations."""
    return (
        list(get_user_model().objects.order_by("pk").values_list("pk", "username", "email")),
        list(EmailAddress.objects.order_by("pk").values_list("pk", "email", "verified")),
        list(Membership.objects.order_by("pk").values_list("pk", "user_id", "library_id", "role")),
        list(Invitation.objects.order_by("pk").values_list("pk", "status", "secret_hash")),
    )


# --- Sending ---------------------------------------------------------------------------------


def test_invitation_email_is_vietnamese_and_links_to_the_page(tree, invite, mailoutbox, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://thuvien.example.org"
    invitation, token = invite("  Minh.Le@Truong.edu.vn ", full_name="Lê Văn Minh")
    assert invitation.email == "minh.le@truong.edu.vn"
    assert invitation.status == Invitation.Status.PENDING
    assert invitation.expires_at - invitation.sent_at == datetime.timedelta(days=7)
    message = mailoutbox[-1]
    assert message.to == ["minh.le@truong.edu.vn"]
    assert message.subject == "[Knowledge Bridge] Lời mời tham gia Thư viện THCS An Bình"
    assert "Xin chào Lê Văn Minh," in message.body
    assert "với vai trò: Thủ thư" in message.body
    assert "Người mời: Cô Hằng." in message.body
    assert f"https://thuvien.example.org/loi-moi/{token}/" in message.body
    # The row keeps a hash of the link's secret, never the secret or the token.
    assert token not in invitation.secret_hash and len(invitation.secret_hash) == 64


def test_validity_is_a_setting(invite, settings):
    settings.LIBRARY_INVITATION_DAYS = 2
    invitation, _token = invite()
    assert invitation.expires_at - invitation.sent_at == datetime.timedelta(days=2)


def test_a_second_invitation_for_the_same_role_is_refused(tree, admin, invite, mailoutbox):
    invite()
    sent = len(mailoutbox)
    with pytest.raises(invitations.InvitationError) as refused:
        invitations.invite_member(
            email="MOI@truong.edu.vn", library=tree.child, role=Role.LIBRARIAN, by=admin
        )
    assert refused.value.code == "pending"
    assert Invitation.objects.count() == 1
    assert len(mailoutbox) == sent


def test_a_member_is_not_invited_to_the_role_they_hold(tree, admin, mailoutbox):
    person = UserFactory(email="co.lan@example.org")
    Membership.objects.create(user=person, library=tree.child, role=Role.TEACHER)
    with pytest.raises(invitations.InvitationError) as refused:
        invitations.invite_member(
            email="Co.Lan@example.org", library=tree.child, role=Role.TEACHER, by=admin
        )
    assert refused.value.code == "member"
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("target", "role"),
    [("sibling", Role.LIBRARIAN), ("parent", Role.READER), ("child", Role.NETWORK_ADMIN)],
)
def test_service_refuses_out_of_reach_and_above_own_role(tree, admin, target, role, mailoutbox):
    with pytest.raises(PermissionDenied):
        invitations.invite_member(
            email="x@example.org", library=tree.target(target), role=role, by=admin
        )
    assert not Invitation.objects.exists()
    assert mailoutbox == []


# --- Accepting with a new account ------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_accept_creates_the_account_and_the_membership(client, tree, invite):
    invitation, token = invite(full_name="Lê Văn Minh")
    page = client.get(url(token))
    assert page.status_code == 200
    assert page.context["way"] == "new_account"
    assert page.context["form"]["display_name"].initial == "Lê Văn Minh"

    response = client.post(url(token), new_account())
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    user = get_user_model().objects.get(email="moi@truong.edu.vn")
    assert (user.username, user.display_name) == ("moi", "Lê Văn Minh")
    assert user.check_password(NEW_PASSWORD)
    assert list(
        EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")
    ) == [("moi@truong.edu.vn", True, True)]
    assert list(Membership.objects.filter(user=user).values_list("library", "role")) == [
        (tree.child.pk, Role.LIBRARIAN)
    ]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == (Invitation.Status.ACCEPTED, user)
    # Logged in as the new account: the staff area opens.
    assert client.get(reverse("wagtailadmin_home")).status_code == 200


@pytest.mark.usefixtures("english")
def test_a_reader_lands_on_the_home_page(client, invite):
    _invitation, token = invite(role=Role.READER)
    response = client.post(url(token), new_account())
    assert response["Location"] == "/"


@pytest.mark.usefixtures("english")
def test_a_weak_or_mismatched_password_creates_nothing(client, invite):
    _invitation, token = invite()
    before = state()
    weak = client.post(url(token), new_account(password1="12345678", password2="12345678"))
    assert weak.status_code == 200
    assert weak.context["form"].errors["password1"]
    differ = client.post(url(token), new_account(password2="Another-password-99"))
    assert differ.context["form"].errors["password2"] == ["The two passwords differ."]
    assert state() == before


# --- Links that no longer work ---------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_a_used_link_cannot_be_used_again(client, invite):
    _invitation, token = invite()
    assert client.post(url(token), new_account()).status_code == 302
    before = state()
    other = Client()
    other.cookies["django_language"] = "en"
    for response in (other.get(url(token)), other.post(url(token), new_account())):
        assert response.status_code == 410
        assert response.context["message"] == "This invitation has already been accepted."
    assert state() == before


@pytest.mark.usefixtures("english")
def test_an_expired_link_is_refused(client, invite):
    invitation, token = invite()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    before = state()
    for response in (client.get(url(token)), client.post(url(token), new_account())):
        assert response.status_code == 410
        assert response.context["message"].startswith("This invitation has expired.")
    assert state() == before


@pytest.mark.usefixtures("english")
def test_a_revoked_link_is_refused(client, tree, admin, invite):
    invitation, token = invite()
    invitations.revoke_invitation(invitation=invitation, by=admin)
    before = state()
    for response in (client.get(url(token)), client.post(url(token), new_account())):
        assert response.status_code == 410
        assert response.context["message"] == "This invitation has been withdrawn."
    assert state() == before


@pytest.mark.usefixtures("english")
def test_sending_again_replaces_the_link(client, admin, invite, mailoutbox,
                                         django_capture_on_commit_callbacks):  # fmt: skip
    invitation, old_token = invite()
    with django_capture_on_commit_callbacks(execute=True):
        invitations.resend_invitation(invitation=invitation, by=admin)
    new_token = token_in(mailoutbox[-1].body)
    assert new_token != old_token
    before = state()
    for response in (client.get(url(old_token)), client.post(url(old_token), new_account())):
        assert response.status_code == 404
        assert response.context["message"] == "This invitation link is not valid."
    assert state() == before
    assert client.post(url(new_token), new_account()).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


@pytest.mark.usefixtures("english")
def test_sending_again_restarts_the_validity(admin, invite):
    invitation, _token = invite()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    invitation.refresh_from_db()
    resent = invitations.resend_invitation(invitation=invitation, by=admin)
    assert resent.expires_at > timezone.now() + datetime.timedelta(days=6)


@pytest.mark.usefixtures("english")
def test_closed_invitations_cannot_be_resent_or_revoked(admin, invite):
    invitation, _token = invite()
    invitations.revoke_invitation(invitation=invitation, by=admin)
    for action in (invitations.resend_invitation, invitations.revoke_invitation):
        with pytest.raises(invitations.InvitationError):
            action(invitation=invitation, by=admin)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED


def test_forged_links_are_not_found(client, invite):
    invitation, real = invite()
    _pk, secret = signing.loads(real, salt=invitations.LINK_SALT)
    forged = [
        "not-a-token",
        signing.dumps([invitation.pk, "guess"], salt=invitations.LINK_SALT),
        signing.dumps([invitation.pk, secret], salt="another.salt"),
        real[:-2] + ("AA" if real[-2:] != "AA" else "BB"),
    ]
    before = state()
    for token in forged:
        assert client.get(url(token)).status_code == 404
        assert client.post(url(token), new_account()).status_code == 404
    assert state() == before


def test_a_token_signed_for_another_invitation_opens_nothing(client, invite):
    first, _first_token = invite("a@example.org")
    second, second_token = invite("b@example.org")
    _pk, secret = signing.loads(second_token, salt=invitations.LINK_SALT)
    swapped = signing.dumps([first.pk, secret], salt=invitations.LINK_SALT)
    before = state()
    assert client.post(url(swapped), new_account()).status_code == 404
    assert state() == before


# --- Existing accounts -----------------------------------------------------------------------


@pytest.fixture
def existing(tree):
    person = UserFactory(username="colan", email="")
    EmailAddress.objects.create(
        user=person, email="co.lan@example.org", verified=True, primary=True
    )
    return person


@pytest.mark.usefixtures("english")
def test_an_existing_account_logs_in_then_accepts(client, tree, invite, existing):
    invitation, token = invite("Co.Lan@example.org", role=Role.TEACHER)
    page = client.get(url(token))
    assert page.context["way"] == "login"
    assert page.context["login_url"] == "/accounts/login/?" + urlencode({"next": url(token)})
    before = state()
    assert client.post(url(token)).status_code == 403  # not logged in: nothing happens
    assert state() == before

    client.force_login(existing)
    assert client.get(url(token)).context["way"] == "confirm"
    response = client.post(url(token))
    assert response.status_code == 302 and response["Location"] == "/"
    assert get_user_model().objects.count() == len(before[0])  # no new account
    assert Membership.objects.filter(user=existing, library=tree.child, role="teacher").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == existing


@pytest.mark.usefixtures("english")
def test_the_membership_never_goes_to_another_logged_in_account(client, tree, invite, existing):
    _invitation, token = invite("co.lan@example.org", role=Role.LIBRARY_ADMIN)
    stranger = UserFactory(username="nguoila")
    client.force_login(stranger)
    assert client.get(url(token)).context["way"] == "other_account"
    before = state()
    response = client.post(url(token), new_account())
    assert response.status_code == 403
    assert state() == before
    assert not Membership.objects.filter(user=stranger).exists()


@pytest.mark.usefixtures("english")
def test_a_new_address_is_not_given_to_whoever_is_logged_in(client, tree, invite):
    _invitation, token = invite("nobody-yet@example.org")
    client.force_login(UserFactory(username="nguoila"))
    before = state()
    assert client.post(url(token), new_account()).status_code == 403
    assert state() == before


def test_service_refuses_the_wrong_account_too(tree, invite, existing):
    _invitation, token = invite("co.lan@example.org")
    stranger = UserFactory(username="nguoila")
    before = state()
    for user in (None, stranger):
        with pytest.raises(invitations.InvitationError):
            invitations.accept_invitation(token=token, user=user, password=NEW_PASSWORD)
    assert state() == before


def test_an_unverified_address_is_verified_by_accepting(tree, invite):
    person = UserFactory(username="thay.binh", email="thay.binh@example.org")
    invitation, token = invite("thay.binh@example.org", role=Role.TEACHER)
    acceptance = invitations.accept_invitation(token=token, user=person)
    assert not acceptance.account_created
    address = EmailAddress.objects.get(user=person)
    assert (address.email, address.verified, address.primary) == (
        "thay.binh@example.org",
        True,
        True,
    )
    assert person.check_password(PASSWORD)  # the password stays the owner's


@pytest.mark.usefixtures("english")
def test_accepting_needs_the_csrf_token(tree, invite):
    _invitation, token = invite()
    client = Client(enforce_csrf_checks=True)
    before = state()
    assert client.post(url(token), new_account()).status_code == 403
    assert state() == before
