"""Reader card services: card numbers, cards made at the desk, online applications."""

import datetime
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.access import reaches
from libraries.circulation.notices import notify_card_approved
from libraries.circulation.services import CirculationError
from libraries.models import (
    Library,
    Loan,
    Patron,
    PatronCategory,
    PatronSequence,
    RegistrationRequest,
)
from libraries.models.patrons import CHILD_AGE, age_on
from libraries.network.audit import (
    APPLICATION_FIELDS,
    CARD_FIELDS,
    changes,
    field_values,
    log_reader_change,
)

CARD_YEARS = {PatronCategory.CHILD: 1, PatronCategory.STUDENT: 1}
DEFAULT_CARD_YEARS = 2
# A library code (2-10 capitals or digits), a dash, the number: see next_card_number.
CARD_NUMBER_SHAPE = re.compile(r"[A-Z0-9]{2,10}-[0-9]+")


class PatronError(CirculationError):
    pass


def next_card_number(library: Library) -> str:
    """Library code, a dash and a zero-padded number from the library's row-locked sequence.

    The dash keeps card numbers apart from item barcodes (code + digits) at the desk.
    Call inside a transaction.
    """
    PatronSequence.objects.get_or_create(library=library)
    sequence = PatronSequence.objects.select_for_update().get(library=library)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{library.code}-{sequence.last_number:06d}"


def looks_like_card_number(code: str) -> bool:
    """Whether a scanned code has the shape of a card number (item barcodes have no dash)."""
    return bool(CARD_NUMBER_SHAPE.fullmatch(code))


def card_expiry(category: str, today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    years = CARD_YEARS.get(category, DEFAULT_CARD_YEARS)
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def category_for(date_of_birth: datetime.date | None, requested: str) -> str:
    """Anyone under CHILD_AGE is a child, whatever the form said."""
    age = age_on(date_of_birth, timezone.localdate())
    if age is not None and age < CHILD_AGE:
        return PatronCategory.CHILD
    return requested


def _ensure_staff(by, library: Library) -> None:
    if not reaches(by, library):
        raise PatronError(_("You are not allowed to work at this library."), "not_allowed")


def _log_card(patron: Patron, action: str, *, by, before: dict) -> None:
    """One audit entry about a card: its number and card fields, never the reader's name,
    birth date, address or contacts (libraries/network/audit.py CARD_FIELDS)."""
    after = field_values(patron, CARD_FIELDS)
    old, new = changes(before, after) if before else ({}, after)
    log_reader_change(patron, action, by=by, before=old, after=new, library=patron.home_library)


@transaction.atomic
def create_card(*, by, home_library: Library, full_name: str, category: str, **details) -> Patron:
    """Staff issue an active card at the desk."""
    _ensure_staff(by, home_library)
    full_name = " ".join(full_name.split())
    if not full_name:
        raise PatronError(_("A name is required."), "invalid")
    category = category_for(details.get("date_of_birth"), category)
    if category == PatronCategory.CHILD and not details.get("guardian_name"):
        raise PatronError(_("A child's card needs a guardian's name and contact."), "guardian")
    patron = Patron.objects.create(
        card_number=next_card_number(home_library),
        home_library=home_library,
        full_name=full_name,
        category=category,
        expires_on=details.pop("expires_on", None) or card_expiry(category),
        status=Patron.Status.ACTIVE,
        keep_loan_history=details.pop("keep_loan_history", category != PatronCategory.CHILD),
        **details,
    )
    _log_card(patron, "libraries.card.create", by=by, before={})
    return patron


@transaction.atomic
def renew_card(*, patron_id: int, by, today: datetime.date | None = None) -> Patron:
    """Extend a card from today (or from its expiry when it has not expired yet)."""
    today = today or timezone.localdate()
    patron = Patron.objects.select_for_update().select_related("home_library").get(pk=patron_id)
    _ensure_staff(by, patron.home_library)
    if patron.status == Patron.Status.BLOCKED:
        raise PatronError(_("This card is blocked; unblock it before renewing."), "blocked")
    before = field_values(patron, CARD_FIELDS)
    patron.expires_on = card_expiry(patron.category, max(today, patron.expires_on))
    if patron.status == Patron.Status.EXPIRED:
        patron.status = Patron.Status.ACTIVE
    patron.save(update_fields=["expires_on", "status"])
    _log_card(patron, "libraries.card.renew", by=by, before=before)
    return patron


@transaction.atomic
def set_card_status(*, patron_id: int, by, blocked: bool, reason: str = "") -> Patron:
    """Block a card (with a reason shown at the desk) or unblock it."""
    patron = Patron.objects.select_for_update().select_related("home_library").get(pk=patron_id)
    _ensure_staff(by, patron.home_library)
    before = field_values(patron, CARD_FIELDS)
    if blocked:
        reason = " ".join(reason.split())
        if not reason:
            raise PatronError(_("Give a reason for blocking the card."), "invalid")
        patron.status, patron.blocked_reason = Patron.Status.BLOCKED, reason[:200]
    else:
        patron.status, patron.blocked_reason = Patron.Status.ACTIVE, ""
    patron.save(update_fields=["status", "blocked_reason"])
    action = "libraries.card.block" if blocked else "libraries.card.unblock"
    _log_card(patron, action, by=by, before=before)
    return patron


@transaction.atomic
def link_account(*, patron_id: int, by, login: str) -> Patron:
    """Link a card to a site account (username or email), so the reader sees their loans."""
    patron = Patron.objects.select_for_update().select_related("home_library").get(pk=patron_id)
    _ensure_staff(by, patron.home_library)
    login = login.strip()
    users = get_user_model().objects.filter(Q(username__iexact=login) | Q(email__iexact=login))
    user = users.first() if login and users.count() == 1 else None
    if user is None:
        raise PatronError(_("No single account matches this username or email."), "no_account")
    if Patron.objects.filter(user=user).exclude(pk=patron.pk).exists():
        raise PatronError(_("This account is already linked to another card."), "linked")
    before = field_values(patron, CARD_FIELDS)
    patron.user = user
    patron.save(update_fields=["user"])
    _log_card(patron, "libraries.card.link", by=by, before=before)
    return patron


def register(**data) -> RegistrationRequest:
    """An online application; the form has validated it. Staff decide later."""
    data["category"] = category_for(data.get("date_of_birth"), data.get("category", "adult"))
    return RegistrationRequest.objects.create(**data)


def _email(request: RegistrationRequest, subject: str, body: str) -> None:
    to = request.email or (request.guardian_contact if "@" in request.guardian_contact else "")
    if to:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=True)
        )


def _log_application(request: RegistrationRequest, action: str, *, by, before: dict) -> None:
    """A decision on a card application, named by its library and number (the reason given to
    the applicant stays on the application, not in the log)."""
    old, new = changes(before, field_values(request, APPLICATION_FIELDS))
    log_reader_change(request, action, by=by, before=old, after=new, library=request.home_library)


@transaction.atomic
def approve_registration(*, request_id: int, by) -> Patron:
    """Issue a card for a pending application. A second approval changes nothing."""
    request = (
        RegistrationRequest.objects.select_for_update(of=("self",))
        .select_related("home_library")
        .get(pk=request_id)
    )
    _ensure_staff(by, request.home_library)
    if request.status != RegistrationRequest.Status.PENDING:
        raise PatronError(_("This application has already been decided."), "decided")
    patron = Patron.objects.create(
        card_number=next_card_number(request.home_library),
        home_library=request.home_library,
        full_name=request.full_name,
        category=request.category,
        date_of_birth=request.date_of_birth,
        school_class=request.school_class,
        address=request.address,
        phone=request.phone,
        email=request.email,
        guardian_name=request.guardian_name,
        guardian_contact=request.guardian_contact,
        guardian_consent=request.guardian_consent,
        expires_on=card_expiry(request.category),
        status=Patron.Status.ACTIVE,
        keep_loan_history=request.category != PatronCategory.CHILD,
    )
    before = field_values(request, APPLICATION_FIELDS)
    request.record_decision(RegistrationRequest.Status.APPROVED, by=by, patron=patron)
    _log_application(request, "libraries.card_application.approve", by=by, before=before)
    _log_card(patron, "libraries.card.create", by=by, before={})
    notify_card_approved(patron)
    return patron


@transaction.atomic
def reject_registration(*, request_id: int, by, reason: str) -> RegistrationRequest:
    request = (
        RegistrationRequest.objects.select_for_update(of=("self",))
        .select_related("home_library")
        .get(pk=request_id)
    )
    _ensure_staff(by, request.home_library)
    reason = reason.strip()
    if not reason:
        raise PatronError(_("Give the applicant a reason."), "invalid")
    if request.status != RegistrationRequest.Status.PENDING:
        raise PatronError(_("This application has already been decided."), "decided")
    before = field_values(request, APPLICATION_FIELDS)
    request.record_decision(RegistrationRequest.Status.REJECTED, by=by, reason=reason)
    _log_application(request, "libraries.card_application.reject", by=by, before=before)
    _email(
        request,
        _("Your reader card application"),
        _("Hello %(name)s,\n\n%(library)s could not accept your application: %(reason)s\n")
        % {"name": request.full_name, "library": request.home_library.name, "reason": reason},
    )
    return request


@transaction.atomic
def anonymise_child_loans(*, older_than_days: int, now=None) -> int:
    """Remove the reader from children's returned loans (the row stays for statistics)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=older_than_days)
    return Loan.objects.filter(
        patron__isnull=False,
        returned_at__lt=cutoff,
        patron__category=PatronCategory.CHILD,
        patron__keep_loan_history=False,
    ).update(patron=None)
