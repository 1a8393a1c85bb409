"""Overdue notices by email: one message per reader listing every overdue item, once a day."""

from collections import defaultdict

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from libraries.models import Loan


def send_overdue_notices(*, now=None) -> int:
    """Notify readers with email about loans overdue and not yet notified today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    loans = (
        Loan.objects.overdue(now)
        .filter(patron__isnull=False)
        .exclude(overdue_notice_sent_on=today)
        .select_related("patron__user", "item__record", "library")
        .order_by("patron_id", "due_at")
    )
    by_patron = defaultdict(list)
    for loan in loans:
        by_patron[loan.patron].append(loan)
    sent = 0
    for patron, patron_loans in by_patron.items():
        to = patron.email or (patron.user.email if patron.user_id else "")
        if not to and "@" in patron.guardian_contact:
            to = patron.guardian_contact
        if not to:
            continue
        with translation.override("vi"), transaction.atomic():
            lines = [
                f"- {loan.item.record.title} ({loan.item.barcode}), "
                + _("due %(date)s at %(library)s")
                % {
                    "date": timezone.localtime(loan.due_at).strftime("%d/%m/%Y"),
                    "library": loan.library.name,
                }
                for loan in patron_loans
            ]
            body = (
                _("Hello %(name)s,\n\nthese items are overdue; please return or renew them:\n")
                % {"name": patron.full_name}
                + "\n".join(lines)
                + "\n"
            )
            Loan.objects.filter(pk__in=[loan.pk for loan in patron_loans]).update(
                overdue_notice_sent_on=today
            )
            send_mail(_("Overdue items"), body, None, [to])
        sent += 1
    return sent
