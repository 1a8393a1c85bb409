"""The network's writes: schools asking to join, and admins deciding on those requests.

Views and admin screens call these functions and never repeat their rules.
"""

import re
import uuid
from dataclasses import dataclass

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from libraries import access
from libraries.models import JoinRequest, Library, Membership, Role
from libraries.network.audit import field_values, log_change
from training_site.text import folded_words, normalise_name

# Words that say what kind of institution a name is; they carry no identity for a code.
_GENERIC_WORDS = {"truong", "thu", "vien", "school", "library", "cap", "so"}
_SCHOOL_LEVELS = {"THCS", "THPT", "TH", "MN", "PTDTBT", "PTDTNT", "GDTX", "PTCS"}
_LEVEL_PHRASES = {"tieu hoc": "TH", "mam non": "MN", "trung hoc": "TH"}


class JoinRequestError(ValidationError):
    """A join request that cannot be accepted, with a message for the person asking."""


@dataclass(frozen=True)
class Decision:
    request: JoinRequest
    library: Library | None = None
    user: object | None = None
    user_created: bool = False


def parent_choices():
    """Libraries a school may ask to join under: active libraries that are not schools."""
    return Library.objects.active().exclude(kind=Library.Kind.SCHOOL).order_by("path")


def default_library_name(school_name: str) -> str:
    """The library's name when the form left it blank (data are kept in Vietnamese)."""
    return f"Thư viện {school_name.strip()}"


def find_duplicate(*, school_name: str, parent: Library, library_name: str = "") -> str | None:
    """Why a request for this school under this parent would be a duplicate, or None."""
    wanted = normalise_name(school_name)
    if JoinRequest.objects.filter(
        normalised_name=wanted, parent=parent, status=JoinRequest.Status.PENDING
    ).exists():
        return _("A request for this school is already waiting for a decision.")
    names = {wanted, normalise_name(default_library_name(school_name))}
    if library_name.strip():
        names.add(normalise_name(library_name))
    for existing in Library.objects.filter(parent=parent).values_list("name", flat=True):
        if normalise_name(existing) in names:
            return _("This school's library is already a member of the network.")
    return None


@transaction.atomic
def submit_join_request(
    *,
    school_name: str,
    address: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    parent: Library,
    library_name: str = "",
    message: str = "",
) -> JoinRequest:
    """Record a school's request to join below `parent`. Raises JoinRequestError if duplicate."""
    if not parent.is_active or parent.kind == Library.Kind.SCHOOL:
        raise JoinRequestError(_("Choose a district or provincial library of the network."))
    duplicate = find_duplicate(school_name=school_name, parent=parent, library_name=library_name)
    if duplicate:
        raise JoinRequestError(duplicate)
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(
                school_name=school_name.strip(),
                library_name=library_name.strip(),
                address=address.strip(),
                contact_name=contact_name.strip(),
                contact_email=contact_email.strip(),
                contact_phone=contact_phone.strip(),
                parent=parent,
                message=message.strip(),
            )
    except IntegrityError:
        # Two identical requests submitted at the same moment: the constraint keeps one.
        raise JoinRequestError(_("A request for this school is already waiting for a decision."))
    transaction.on_commit(lambda: _notify_parent_admins(join_request.pk))
    return join_request


def _ascii_words(name: str) -> list[str]:
    """The name's words folded to ASCII, punctuation inside a word dropped ("Lê-Lợi" -> "leloi")."""
    words = ("".join(folded_words(word).split()) for word in name.split())
    return [word for word in words if word]


def derive_library_code(name: str) -> str:
    """A free library code from a school name: the school level, then initials.

    "Trường THCS Nguyễn Du" gives "THCSND"; if taken, "THCSND2", "THCSND3", ...
    """
    words = _ascii_words(name)
    level, rest, index = "", [], 0
    while index < len(words):
        word, pair = words[index], " ".join(words[index : index + 2]).lower()
        if not level and pair in _LEVEL_PHRASES:
            level, index = _LEVEL_PHRASES[pair], index + 2
            continue
        if not level and word.upper() in _SCHOOL_LEVELS:
            level = word.upper()
        elif word.lower() not in _GENERIC_WORDS:
            rest.append(word if word.isdigit() else word[0].upper())
        index += 1
    base = (level + "".join(rest))[:8]
    if len(base) < 2:
        base = (base + "TV")[:2]
    taken = set(Library.objects.filter(code__startswith=base).values_list("code", flat=True))
    if base not in taken:
        return base
    for number in range(2, 10_000):
        suffix = str(number)
        candidate = base[: 10 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise ValidationError(_("No free library code could be derived from this name."))


def _lock_pending(join_request: JoinRequest) -> JoinRequest:
    """Reload the request under a row lock; a second click finds it already decided."""
    locked = (
        JoinRequest.objects.select_for_update().select_related("parent").get(pk=join_request.pk)
    )
    if locked.status != JoinRequest.Status.PENDING:
        raise JoinRequestError(_("This request has already been decided."))
    return locked


def ensure_can_decide(user, join_request: JoinRequest) -> None:
    if not access.can_administer(user, join_request.parent):
        raise PermissionDenied(_("Only administrators of the parent library can decide."))


def unique_username(email: str) -> str:
    User = get_user_model()
    base = re.sub(r"[^A-Za-z0-9_.+-]", "", email.split("@")[0].lower())[:140] or "thuvien"
    candidate, number = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}{number}"
    return candidate


def _invite_contact(join_request: JoinRequest):
    """The contact's account (existing, by email, or a new one without a password)."""
    User = get_user_model()
    email = join_request.contact_email.strip()
    address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
    user = address.user if address else User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(
            username=unique_username(email),
            email=email,
            display_name=join_request.contact_name,
        )
        user.set_unusable_password()
        user.save()
    # The invitation goes to this address; setting a password through it proves ownership.
    EmailAddress.objects.update_or_create(
        user=user, email__iexact=email, defaults={"email": email, "verified": True}
    )
    if not EmailAddress.objects.filter(user=user, primary=True).exists():
        EmailAddress.objects.filter(user=user, email__iexact=email).update(primary=True)
    return user, created


@transaction.atomic
def approve_join_request(*, request: JoinRequest, by) -> Decision:
    """Accept a school: create its library under the parent and make the contact its admin.

    Raises PermissionDenied unless `by` administers the parent library (or one above it),
    and JoinRequestError if the request was already decided. The invitation email is sent
    once the transaction commits.
    """
    ensure_can_decide(by, request)
    join_request = _lock_pending(request)
    ensure_can_decide(by, join_request)
    library = Library.objects.create(
        code=derive_library_code(join_request.school_name),
        name=join_request.library_name or default_library_name(join_request.school_name),
        kind=Library.Kind.SCHOOL,
        parent=join_request.parent,
        address=join_request.address,
        contact_name=join_request.contact_name,
        email=join_request.contact_email,
        phone=join_request.contact_phone,
    )
    user, created = _invite_contact(join_request)
    membership, granted = Membership.objects.get_or_create(
        user=user, library=library, role=Role.LIBRARY_ADMIN
    )
    join_request.record_decision(JoinRequest.Status.APPROVED, by=by, library=library)
    # One entry per changed object, in one batch: the decision, the new library, the role.
    batch = uuid.uuid4()
    log_change(
        join_request,
        "libraries.join_request.approve",
        by=by,
        before={"status": JoinRequest.Status.PENDING},
        after={"status": join_request.status, "library": library.pk},
        library=join_request.parent,
        batch=batch,
    )
    log_change(
        library,
        "libraries.library.create",
        by=by,
        before={},
        after=field_values(library),
        library=library,
        batch=batch,
    )
    if granted:
        log_change(
            membership,
            "libraries.membership.create",
            by=by,
            before={},
            after=field_values(membership, ("user", "library", "role")),
            library=library,
            batch=batch,
        )
    transaction.on_commit(lambda: _send_invitation(join_request.pk, user.pk))
    request.status, request.library = join_request.status, library
    return Decision(request=join_request, library=library, user=user, user_created=created)


@transaction.atomic
def reject_join_request(*, request: JoinRequest, by, reason: str) -> Decision:
    """Turn a request down with a reason the contact receives by email."""
    reason = reason.strip()
    if not reason:
        raise JoinRequestError(_("Give a reason: the school will read it."))
    ensure_can_decide(by, request)
    join_request = _lock_pending(request)
    ensure_can_decide(by, join_request)
    join_request.record_decision(JoinRequest.Status.REJECTED, by=by, reason=reason)
    log_change(
        join_request,
        "libraries.join_request.reject",
        by=by,
        before={"status": JoinRequest.Status.PENDING},
        after={"status": join_request.status, "reason": reason},
        library=join_request.parent,
    )
    transaction.on_commit(lambda: _send_rejection(join_request.pk))
    request.status = join_request.status
    return Decision(request=join_request)


def site_url(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def set_password_url(user) -> str:
    """A one-time link (allauth's password-reset token) where the user sets a password."""
    return site_url(
        reverse(
            "account_reset_password_from_key",
            kwargs={
                "uidb36": user_pk_to_url_str(user),
                "key": default_token_generator.make_token(user),
            },
        )
    )


def send_email(template: str, context: dict, to: list[str]) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"libraries/email/{template}_subject.txt", context)
        body = render_to_string(f"libraries/email/{template}_message.txt", context)
    send_mail(
        settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        to,
    )


def _send_invitation(join_request_id: int, user_id: int) -> None:
    join_request = JoinRequest.objects.select_related("library", "parent").get(pk=join_request_id)
    user = get_user_model().objects.get(pk=user_id)
    context = {
        "join_request": join_request,
        "library": join_request.library,
        "user": user,
        "login_url": site_url(reverse("account_login")),
        "set_password_url": None if user.has_usable_password() else set_password_url(user),
        "admin_url": site_url("/admin/"),
    }
    send_email("invitation", context, [join_request.contact_email])


def _send_rejection(join_request_id: int) -> None:
    join_request = JoinRequest.objects.select_related("parent").get(pk=join_request_id)
    send_email("rejection", {"join_request": join_request}, [join_request.contact_email])


def admins_of(library: Library):
    """Users who administer `library` (at it or above it) and have an email address."""
    ancestor_ids = [int(part) for part in library.path.strip("/").split("/") if part]
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__library_id__in=ancestor_ids,
            memberships__role__in=access.ADMIN_ROLES,
        )
        .exclude(email="")
        .distinct()
    )


def _notify_parent_admins(join_request_id: int) -> None:
    join_request = JoinRequest.objects.select_related("parent").get(pk=join_request_id)
    recipients = [user.email for user in admins_of(join_request.parent)]
    if recipients:
        context = {
            "join_request": join_request,
            "review_url": site_url(
                reverse("libraries_join_requests:review", args=[join_request.pk])
            ),
        }
        send_email("new_request", context, recipients)
