"""Notices to readers by email: overdue items, a hold waiting on the shelf, a card approved.

Each notice is written in the reader's language: the one chosen on their linked account, else
the site's (Vietnamese). A library may word a notice itself (NoticeTemplate, a snippet in the
staff area); otherwise the built-in text below is sent. Both are filled the same way: only the
placeholders the notice offers ({reader_name}, {title}, ...), never code or markup, and the
mail leaves once the transaction commits.
"""

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from libraries.models import Hold, Library, Loan, NoticeKind, NoticeTemplate, Patron
from libraries.models.circulation import PlaceholderError, fill_notice_text

DATE_FORMAT = "%d/%m/%Y"

# The built-in wording, used where a library has none (same placeholders as the templates).
BUILT_IN = {
    NoticeKind.OVERDUE: (
        gettext_lazy("Overdue items"),
        gettext_lazy(
            "Hello {reader_name},\n\nthese items are overdue; please return or renew them:\n"
            "{items}\n\n{library_name}"
        ),
    ),
    NoticeKind.HOLD_AVAILABLE: (
        gettext_lazy("Your book is ready"),
        gettext_lazy(
            "Hello {reader_name},\n\n“{title}” is waiting for you at {library_name} until "
            "{pickup_until}. Bring your card ({card_number})."
        ),
    ),
    NoticeKind.CARD_APPROVED: (
        gettext_lazy("Your reader card is ready"),
        gettext_lazy(
            "Hello {reader_name},\n\nyour reader card {card_number} at {library_name} is ready. "
            "Bring an identity document to collect it. It is valid until {expires_on}."
        ),
    ),
}


def reader_language(patron: Patron) -> str:
    """The language the reader chose on their linked account, else the site's."""
    languages = {code for code, _name in settings.LANGUAGES}
    chosen = patron.user.preferred_language if patron.user_id else ""
    return chosen if chosen in languages else settings.LANGUAGE_CODE


def reader_email(patron: Patron) -> str:
    """The card's address, the linked account's, or the guardian's when it is an address."""
    address = patron.email or (patron.user.email if patron.user_id else "")
    if not address and "@" in patron.guardian_contact:
        address = patron.guardian_contact
    return address


def compose(kind: str, *, library: Library, language: str, values: dict) -> tuple[str, str]:
    """(subject, body) of a notice: the library's template in `language` if it has one,
    else the built-in text in that language."""
    template = NoticeTemplate.objects.filter(library=library, kind=kind, language=language).first()
    if template is not None:
        try:
            return template.render(values)
        except PlaceholderError:
            pass  # a template changed outside the staff area: the built-in text still goes
    subject, body = BUILT_IN[kind]
    with translation.override(language):
        subject, body = str(subject), str(body)
    return " ".join(fill_notice_text(subject, values).split()), fill_notice_text(body, values)


def reader_values(patron: Patron, library: Library) -> dict:
    return {
        "reader_name": patron.full_name,
        "card_number": patron.card_number,
        "library_name": library.name,
    }


def _send_on_commit(subject: str, body: str, to: str) -> None:
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=True)
    )


def notify_hold_available(hold: Hold, *, library: Library) -> None:
    """Tell the reader their hold waits on `library`'s hold shelf (sent on commit)."""
    patron = hold.patron
    to = reader_email(patron)
    if not to:
        return
    values = {
        **reader_values(patron, library),
        "title": hold.record.title,
        "pickup_until": hold.expires_on.strftime(DATE_FORMAT),
    }
    subject, body = compose(
        NoticeKind.HOLD_AVAILABLE, library=library, language=reader_language(patron), values=values
    )
    _send_on_commit(subject, body, to)


def notify_card_approved(patron: Patron) -> None:
    """Tell the applicant their card is ready at its home library (sent on commit)."""
    to = reader_email(patron)
    if not to:
        return
    library = patron.home_library
    values = {
        **reader_values(patron, library),
        "expires_on": patron.expires_on.strftime(DATE_FORMAT),
    }
    subject, body = compose(
        NoticeKind.CARD_APPROVED, library=library, language=reader_language(patron), values=values
    )
    _send_on_commit(subject, body, to)


def send_overdue_notices(*, now=None) -> int:
    """Notify readers with email about loans overdue and not yet notified today: one message
    per reader listing every overdue item, worded by the reader's home library."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    loans = (
        Loan.objects.overdue(now)
        .filter(patron__isnull=False)
        .exclude(overdue_notice_sent_on=today)
        .select_related("patron__user", "patron__home_library", "item__record", "library")
        .order_by("patron_id", "due_at")
    )
    by_patron = defaultdict(list)
    for loan in loans:
        by_patron[loan.patron].append(loan)
    sent = 0
    for patron, patron_loans in by_patron.items():
        to = reader_email(patron)
        if not to:
            continue
        language = reader_language(patron)
        with translation.override(language):
            lines = [
                f"- {loan.item.record.title} ({loan.item.barcode}), "
                + _("due %(date)s at %(library)s")
                % {
                    "date": timezone.localtime(loan.due_at).strftime(DATE_FORMAT),
                    "library": loan.library.name,
                }
                for loan in patron_loans
            ]
        values = {
            **reader_values(patron, patron.home_library),
            "items": "\n".join(lines),
            "item_count": str(len(patron_loans)),
            "due_date": timezone.localtime(patron_loans[0].due_at).strftime(DATE_FORMAT),
        }
        subject, body = compose(
            NoticeKind.OVERDUE, library=patron.home_library, language=language, values=values
        )
        with transaction.atomic():
            Loan.objects.filter(pk__in=[loan.pk for loan in patron_loans]).update(
                overdue_notice_sent_on=today
            )
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
        sent += 1
    return sent
