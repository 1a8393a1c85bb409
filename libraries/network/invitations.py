"""Members by invitation: an admin offers a role at a library to an email address.

The email carries a link with a signed secret (the row keeps only its SHA-256). Accepting
it, once and before it expires, either creates the account (the invitee chooses a password
on the page) or, when an account with that email exists, gives that account the membership
after its owner logged in as it. Sending it again replaces the secret; revoking closes it.
Students without email are not invited: their teacher creates their accounts (classes).
"""

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from libraries import access
from libraries.models import Invitation, Library, Membership
from libraries.network.audit import field_values, log_change
from libraries.network.services import send_email, site_url, unique_username

LINK_SALT = "libraries.invitation"
# What the audit log keeps of an invitation (never its secret).
INVITATION_FIELDS = ("email", "full_name", "library", "role", "status", "expires_at")


class InvitationError(ValidationError):
    """An invitation that cannot be sent, resent, revoked or accepted; the message says why."""


@dataclass(frozen=True)
class Acceptance:
    invitation: Invitation
    user: object
    membership: Membership
    account_created: bool


def valid_days() -> int:
    """How long a link works after it was (last) sent: settings.LIBRARY_INVITATION_DAYS."""
    return int(settings.LIBRARY_INVITATION_DAYS)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_link(invitation: Invitation, now) -> str:
    """Give the invitation a fresh secret and validity; returns the token of its link."""
    secret = secrets.token_urlsafe(24)
    invitation.secret_hash = _hash(secret)
    invitation.sent_at = now
    invitation.expires_at = now + datetime.timedelta(days=valid_days())
    return signing.dumps([invitation.pk, secret], salt=LINK_SALT)


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link names, whatever its state; None for a forged or replaced link."""
    try:
        pk, secret = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    invitation = Invitation.objects.select_related("library").filter(pk=pk).first()
    if invitation is None or not constant_time_compare(invitation.secret_hash, _hash(str(secret))):
        return None
    return invitation


def ensure_open(invitation: Invitation, now=None) -> None:
    """Raise InvitationError unless the invitation can still be accepted."""
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationError(_("This invitation has already been accepted."), code="used")
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationError(_("This invitation has been withdrawn."), code="revoked")
    if invitation.is_expired(now):
        raise InvitationError(
            _("This invitation has expired. Ask the library to send it again."), code="expired"
        )
    if not invitation.library.is_active:
        raise InvitationError(_("This library is no longer active."), code="inactive")


def ensure_may_invite(user, library: Library, role: str) -> None:
    """Admins invite to libraries within their reach, with a role up to their own."""
    if not access.can_administer(user, library):
        raise PermissionDenied(_("You can only invite members to libraries you administer."))
    if role not in access.roles_user_may_grant(user, library):
        raise PermissionDenied(_("You cannot give this role at this library."))


def account_for_email(email: str):
    """The account this address belongs to (a verified address first), or None."""
    email = normalise_email(email)
    addresses = EmailAddress.objects.filter(email__iexact=email).order_by("-verified", "pk")
    address = addresses.select_related("user").first()
    if address is not None:
        return address.user
    return get_user_model().objects.filter(email__iexact=email).order_by("pk").first()


def _ensure_not_member(email: str, library: Library, role: str) -> None:
    person = account_for_email(email)
    if person and Membership.objects.filter(user=person, library=library, role=role).exists():
        raise InvitationError(_("This person already has this role here."), code="member")


@transaction.atomic
def invite_member(
    *, email: str, library: Library, role: str, by, full_name: str = ""
) -> Invitation:
    """Invite `email` to take `role` at `library`; the email leaves when the transaction commits.

    Raises PermissionDenied outside `by`'s reach or above their role, InvitationError when the
    person already holds the role there or an invitation for it is waiting.
    """
    ensure_may_invite(by, library, role)
    email = normalise_email(email)
    _ensure_not_member(email, library, role)
    duplicate = _("An invitation for this role is already waiting: send it again from the list.")
    if Invitation.objects.pending().filter(email=email, library=library, role=role).exists():
        raise InvitationError(duplicate, code="pending")
    now = timezone.now()
    invitation = Invitation(
        email=email,
        full_name=full_name.strip(),
        library=library,
        role=role,
        invited_by=by,
        sent_at=now,
        expires_at=now,
    )
    try:
        with transaction.atomic():
            invitation.save()
            token = _new_link(invitation, now)
            invitation.save(update_fields=["secret_hash", "sent_at", "expires_at"])
    except IntegrityError:
        raise InvitationError(duplicate, code="pending") from None
    log_change(
        invitation,
        "libraries.invitation.create",
        by=by,
        before={},
        after=field_values(invitation, INVITATION_FIELDS),
        library=library,
    )
    transaction.on_commit(lambda: _send_invitation(invitation.pk, token))
    return invitation


def _lock(invitation: Invitation) -> Invitation:
    return (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("library")
        .get(pk=invitation.pk)
    )


@transaction.atomic
def resend_invitation(*, invitation: Invitation, by) -> Invitation:
    """Send a new link (valid for the full period again); the previous link stops working."""
    invitation = _lock(invitation)
    ensure_may_invite(by, invitation.library, invitation.role)
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationError(_("Only a waiting invitation can be sent again."), code="closed")
    before = field_values(invitation, ("expires_at",))
    token = _new_link(invitation, timezone.now())
    invitation.save(update_fields=["secret_hash", "sent_at", "expires_at"])
    log_change(
        invitation,
        "libraries.invitation.resend",
        by=by,
        before=before,
        after=field_values(invitation, ("expires_at",)),
        library=invitation.library,
    )
    transaction.on_commit(lambda: _send_invitation(invitation.pk, token))
    return invitation


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, by) -> Invitation:
    """Withdraw a waiting invitation: its link stops working."""
    invitation = _lock(invitation)
    ensure_may_invite(by, invitation.library, invitation.role)
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationError(_("Only a waiting invitation can be withdrawn."), code="closed")
    invitation.status = Invitation.Status.REVOKED
    invitation.closed_at = timezone.now()
    invitation.revoked_by = by
    invitation.save(update_fields=["status", "closed_at", "revoked_by"])
    log_change(
        invitation,
        "libraries.invitation.revoke",
        by=by,
        before={"status": Invitation.Status.PENDING},
        after={"status": invitation.status},
        library=invitation.library,
    )
    return invitation


def who_accepts(invitation: Invitation, user) -> str:
    """How `user` (anonymous too) may accept: "confirm" (logged in as the invited account),
    "login" (an account exists: log in as it first), "new_account" (choose a password), or
    "other_account" (logged in as someone else: never attached to them)."""
    existing = account_for_email(invitation.email)
    logged_in = bool(user and user.is_authenticated)
    if existing is not None:
        if logged_in and user.pk == existing.pk:
            return "confirm"
        return "other_account" if logged_in else "login"
    return "other_account" if logged_in else "new_account"


@transaction.atomic
def accept_invitation(
    *, token: str, user=None, password: str = "", display_name: str = ""
) -> Acceptance:
    """Accept once: the invitation row is locked, so a second click finds it accepted.

    `user` is the logged-in account (or None). When an account with the invited email exists,
    only that account, logged in, accepts. Otherwise a new account is created with `password`
    (Django's password validators apply), its email verified by the link itself.
    """
    found = invitation_for_token(token)
    if found is None:
        raise InvitationError(_("This invitation link is not valid."), code="invalid")
    invitation = _lock(found)
    if not constant_time_compare(invitation.secret_hash, found.secret_hash):
        raise InvitationError(_("This invitation link is not valid."), code="invalid")
    ensure_open(invitation)
    way = who_accepts(invitation, user)
    if way == "login":
        raise InvitationError(
            _("An account with this email exists: log in to it to accept."), code="login"
        )
    if way == "other_account":
        raise InvitationError(
            _("This invitation is for %(email)s. Log out first, then open the link again.")
            % {"email": invitation.email},
            code="other_account",
        )
    created = way == "new_account"
    if created:
        user = _create_account(invitation, password=password, display_name=display_name)
    _verify_address(user, invitation.email)
    membership, _new = Membership.objects.get_or_create(
        user=user, library=invitation.library, role=invitation.role
    )
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.closed_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "closed_at"])
    if _new:
        # The role is granted by the invitation: logged as a grant, by the person accepting.
        log_change(
            membership,
            "libraries.membership.create",
            by=user,
            before={},
            after={
                **field_values(membership, ("user", "library", "role")),
                "invitation": invitation.pk,
            },
            library=invitation.library,
        )
    access.forget_memberships(user)
    return Acceptance(
        invitation=invitation, user=user, membership=membership, account_created=created
    )


def _create_account(invitation: Invitation, *, password: str, display_name: str):
    User = get_user_model()
    user = User(
        username=unique_username(invitation.email),
        email=invitation.email,
        display_name=(display_name or invitation.full_name).strip()[:150],
    )
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise InvitationError(" ".join(error.messages), code="password") from None
    user.set_password(password)
    user.save()
    return user


def _verify_address(user, email: str) -> None:
    """The link reached this address: it is the account's, verified (primary if none is)."""
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        address = EmailAddress.objects.create(user=user, email=email, verified=True)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    if not EmailAddress.objects.filter(user=user, primary=True).exists():
        EmailAddress.objects.filter(pk=address.pk).update(primary=True)


def accept_url(token: str) -> str:
    return site_url(reverse("libraries:invitation", args=[token]))


def _send_invitation(invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.select_related("library", "invited_by").get(pk=invitation_id)
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "library": invitation.library,
        "inviter": (inviter.display_name or inviter.get_username()) if inviter else "",
        "accept_url": accept_url(token),
        "expires_at": timezone.localtime(invitation.expires_at),
    }
    send_email("member_invitation", context, [invitation.email])
