"""Circulation: rules, loans, holds, transfers between libraries and inter-library loans."""

import datetime
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import PreviewableMixin

from .catalog import Item, Record
from .network import Library
from .patrons import Patron, PatronCategory

# Rules set print item types and digital loans (libraries/models/digital.py, DIGITAL_ITEM_TYPE).
RULE_ITEM_TYPES = [*Item.Type.choices, ("digital", _("Digital file (e-book loan)"))]


class CirculationRuleQuerySet(models.QuerySet):
    def matching(self, *, library: Library | None, category: str, item_type: str):
        """Rules that apply, most specific first (library, then category, then item type)."""
        library_ids = [library.pk] if library else []
        return (
            self.filter(Q(library__isnull=True) | Q(library_id__in=library_ids))
            .filter(Q(patron_category="") | Q(patron_category=category))
            .filter(Q(item_type="") | Q(item_type=item_type))
            .order_by(
                F("library_id").desc(nulls_last=True),
                F("patron_category").desc(),
                F("item_type").desc(),
            )
        )


class CirculationRule(models.Model):
    """Koha's matrix: library x reader category x item type; blank means any."""

    library = models.ForeignKey(
        Library,
        verbose_name=_("library"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="circulation_rules",
        help_text=_("Leave blank for every library."),
    )
    patron_category = models.CharField(
        _("reader category"), max_length=10, choices=PatronCategory.choices, blank=True
    )
    item_type = models.CharField(_("item type"), max_length=20, choices=RULE_ITEM_TYPES, blank=True)
    loan_days = models.PositiveSmallIntegerField(_("loan period (days)"), default=14)
    max_loans = models.PositiveSmallIntegerField(_("maximum loans"), default=5)
    renewals = models.PositiveSmallIntegerField(_("renewals allowed"), default=1)
    holds_allowed = models.BooleanField(_("holds allowed"), default=True)
    fine_per_day = models.DecimalField(
        _("fine per overdue day (VND)"), max_digits=9, decimal_places=0, default=0
    )

    objects = CirculationRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("circulation rule")
        verbose_name_plural = _("circulation rules")
        constraints = [
            # Blank library means "any": Coalesce makes blanks equal, on SQLite and PostgreSQL.
            models.UniqueConstraint(
                Coalesce("library", Value(0)),
                F("patron_category"),
                F("item_type"),
                name="circulationrule_unique_combination",
            ),
            models.CheckConstraint(condition=Q(loan_days__gte=1), name="rule_loan_days_positive"),
        ]

    def __str__(self):
        return " · ".join(
            [
                self.library.code if self.library_id else str(_("any library")),
                self.get_patron_category_display() or str(_("any category")),
                self.get_item_type_display() or str(_("any type")),
            ]
        )

    def due_from(self, moment: datetime.datetime) -> datetime.datetime:
        """Due at the end of the library day, loan_days after `moment`."""
        day = timezone.localtime(moment).date() + datetime.timedelta(days=self.loan_days)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))


class LoanQuerySet(models.QuerySet):
    def open(self):
        return self.filter(returned_at__isnull=True)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())

    def on_loan_to(self, patron):
        """A reader's open loans, soonest due first, with what their pages show."""
        return (
            self.open()
            .filter(patron=patron)
            .select_related("item__record", "library")
            .order_by("due_at", "pk")
        )


class Loan(models.Model):
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="loans"
    )
    patron = models.ForeignKey(
        Patron,
        verbose_name=_("reader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loans",
        help_text=_("Empty once the loan has been anonymised."),
    )
    patron_category = models.CharField(
        _("reader category"), max_length=10, choices=PatronCategory.choices
    )
    library = models.ForeignKey(
        Library, verbose_name=_("lent at"), on_delete=models.PROTECT, related_name="loans"
    )
    checked_out_at = models.DateTimeField(_("checked out at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"))
    renewals_count = models.PositiveSmallIntegerField(_("renewals"), default=0)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_library = models.ForeignKey(
        Library,
        verbose_name=_("returned at library"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overdue_notice_sent_on = models.DateField(_("overdue notice sent on"), null=True, blank=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(returned_at__isnull=True),
                name="loan_one_open_per_item",
            )
        ]
        indexes = [
            models.Index(fields=["patron", "returned_at"]),
            models.Index(fields=["library", "due_at"], name="loan_library_due"),
        ]

    def __str__(self):
        return f"{self.item.barcode} → {self.patron or '—'}"

    @property
    def is_overdue(self) -> bool:
        return self.returned_at is None and self.due_at < timezone.now()


class HoldQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Hold.ACTIVE)

    def of_reader(self, patron):
        """A reader's active holds, oldest first, with what their pages show."""
        return (
            self.active()
            .filter(patron=patron)
            .select_related("record", "pickup_library")
            .order_by("created_at", "pk")
        )

    def queue(self):
        """Waiting holds for print copies, oldest first: the order returned items go out."""
        return self.filter(status=Hold.Status.PENDING, digital_file__isnull=True).order_by(
            "created_at", "pk"
        )

    def digital_queue(self, file):
        """Readers waiting for a licence of a digital file, oldest first."""
        return self.filter(status=Hold.Status.PENDING, digital_file=file).order_by(
            "created_at", "pk"
        )


class Hold(models.Model):
    """A reader waiting for any copy of a record, to collect at a pickup library."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        IN_TRANSIT = "in_transit", _("In transit for pickup")
        READY = "ready", _("Ready on the hold shelf")
        FULFILLED = "fulfilled", _("Collected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    ACTIVE = (Status.PENDING, Status.IN_TRANSIT, Status.READY)
    CAPTURED = (Status.IN_TRANSIT, Status.READY)

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.CASCADE, related_name="holds"
    )
    patron = models.ForeignKey(
        Patron, verbose_name=_("reader"), on_delete=models.CASCADE, related_name="holds"
    )
    pickup_library = models.ForeignKey(
        Library, verbose_name=_("pickup library"), on_delete=models.PROTECT, related_name="holds"
    )
    item = models.ForeignKey(
        Item,
        verbose_name=_("item set aside"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="holds",
    )
    # A waiting list for a licence of a digital file (never an item): "ready" then means a
    # licence is kept for the reader for DIGITAL_OFFER_HOURS from ready_at.
    digital_file = models.ForeignKey(
        "libraries.DigitalFile",
        verbose_name=_("digital file"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="holds",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("placed at"), default=timezone.now)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_on = models.DateField(_("collect by"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status__in=["in_transit", "ready"]),
                name="hold_one_captured_per_item",
            ),
            models.UniqueConstraint(
                fields=["patron", "record"],
                condition=Q(status__in=["pending", "in_transit", "ready"]),
                name="hold_one_active_per_reader_record",
            ),
            models.CheckConstraint(
                condition=Q(status="pending")
                | ~Q(status__in=["in_transit", "ready"])
                | Q(item__isnull=False)
                | Q(digital_file__isnull=False, status="ready"),
                name="hold_captured_has_item",
            ),
            models.CheckConstraint(
                condition=Q(digital_file__isnull=True) | Q(item__isnull=True),
                name="hold_digital_has_no_item",
            ),
        ]
        indexes = [models.Index(fields=["record", "status", "created_at"])]

    def __str__(self):
        return f"{self.record} · {self.patron}"


class TransferQuerySet(models.QuerySet):
    def open(self):
        return self.filter(received_at__isnull=True, cancelled_at__isnull=True)


class Transfer(models.Model):
    """An item travelling between two libraries of the network; received by a scan."""

    class Reason(models.TextChoices):
        RETURN = "return", _("Return to owning library")
        HOLD = "hold", _("For a hold")
        ILL = "ill", _("Inter-library loan")

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="transfers"
    )
    from_library = models.ForeignKey(
        Library, verbose_name=_("from"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_library = models.ForeignKey(
        Library, verbose_name=_("to"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    hold = models.ForeignKey(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers"
    )
    ill_request = models.ForeignKey(
        "libraries.InterLibraryLoan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transfers",
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(received_at__isnull=True, cancelled_at__isnull=True),
                name="transfer_one_open_per_item",
            ),
            models.CheckConstraint(
                condition=~Q(from_library=F("to_library")), name="transfer_between_two_libraries"
            ),
        ]

    def __str__(self):
        return f"{self.item.barcode}: {self.from_library.code} → {self.to_library.code}"


class InterLibraryLoan(models.Model):
    """A library asks another library of the network to lend it one item."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SHIPPED = "shipped", _("Sent")
        ARRIVED = "arrived", _("Arrived")
        RETURNING = "returning", _("On its way back")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.REQUESTED, Status.SHIPPED, Status.ARRIVED, Status.RETURNING)

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="ill_requests"
    )
    requesting_library = models.ForeignKey(
        Library,
        verbose_name=_("requesting library"),
        on_delete=models.PROTECT,
        related_name="ill_requests_made",
    )
    lending_library = models.ForeignKey(
        Library,
        verbose_name=_("lending library"),
        on_delete=models.PROTECT,
        related_name="ill_requests_received",
    )
    patron = models.ForeignKey(
        Patron,
        verbose_name=_("for reader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ill_requests",
    )
    hold = models.OneToOneField(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="ill_request"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    note = models.TextField(_("note"), blank=True)
    reason = models.TextField(_("reason for refusal"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("inter-library loan")
        verbose_name_plural = _("inter-library loans")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status__in=["requested", "shipped", "arrived", "returning"]),
                name="ill_one_open_per_item",
            ),
            models.CheckConstraint(
                condition=~Q(requesting_library=F("lending_library")), name="ill_two_libraries"
            ),
        ]

    def __str__(self):
        return f"{self.item.barcode}: {self.lending_library.code} → {self.requesting_library.code}"


# --- Notices to readers ------------------------------------------------------------------------


class NoticeKind(models.TextChoices):
    OVERDUE = "overdue", _("Overdue items")
    HOLD_AVAILABLE = "hold_available", _("Hold available")
    CARD_APPROVED = "card_approved", _("Reader card approved")


_COMMON_PLACEHOLDERS = {
    "reader_name": _("the reader's full name"),
    "card_number": _("the reader's card number"),
    "library_name": _("the library's name"),
}

# The placeholders each notice may use, written {name} in its subject or body.
NOTICE_PLACEHOLDERS: dict[str, dict[str, str]] = {
    NoticeKind.OVERDUE: {
        **_COMMON_PLACEHOLDERS,
        "items": _("the overdue items, one per line (title, barcode, due date, library)"),
        "item_count": _("how many items are overdue"),
        "due_date": _("the earliest due date"),
    },
    NoticeKind.HOLD_AVAILABLE: {
        **_COMMON_PLACEHOLDERS,
        "title": _("the title waiting on the hold shelf"),
        "pickup_until": _("the last day to collect it"),
    },
    NoticeKind.CARD_APPROVED: {
        **_COMMON_PLACEHOLDERS,
        "expires_on": _("the card's expiry date"),
    },
}

# What the staff preview fills in (data, not interface text: kept as a reader would see it).
NOTICE_SAMPLE_VALUES = {
    "reader_name": "Nguyễn Thị Mai",
    "card_number": "THCSA-000123",
    "library_name": "Thư viện THCS An Bình",
    "items": "- Dế Mèn phiêu lưu ký (THCSA0000042), 05/03/2026\n"
    "- Tuổi thơ dữ dội (THCSA0000107), 07/03/2026",
    "item_count": "2",
    "due_date": "05/03/2026",
    "title": "Dế Mèn phiêu lưu ký",
    "pickup_until": "12/03/2026",
    "expires_on": "31/05/2027",
}


class PlaceholderError(ValueError):
    """A notice text that cannot be filled in; the message says what to write instead."""


def notice_placeholders(text: str) -> list[str]:
    """The placeholder names in `text`, in order. Only plain {name} is allowed: no attribute,
    index, conversion or format (so a text can never reach into the values it is given)."""
    try:
        parts = list(string.Formatter().parse(text or ""))
    except ValueError:
        raise PlaceholderError(
            _("Unbalanced braces: write {{ or }} for a brace that is not a placeholder.")
        ) from None
    names = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise PlaceholderError(
                _("Write placeholders as a name in braces, e.g. {reader_name}: “{%(text)s}”.")
                % {"text": written}
            )
        names.append(name)
    return names


def check_notice_text(text: str, kind: str) -> None:
    """Raise PlaceholderError unless every placeholder of `text` is one the notice offers."""
    allowed = NOTICE_PLACEHOLDERS[kind]
    unknown = [name for name in notice_placeholders(text) if name not in allowed]
    if unknown:
        raise PlaceholderError(
            _("Unknown placeholder %(unknown)s. This notice may use: %(allowed)s.")
            % {
                "unknown": ", ".join(f"{{{name}}}" for name in dict.fromkeys(unknown)),
                "allowed": ", ".join(f"{{{name}}}" for name in allowed),
            }
        )


def fill_notice_text(text: str, values: dict[str, str]) -> str:
    """`text` with each {name} replaced by values[name]; a name without a value is refused."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(text or ""):
        out.append(literal)
        if name is not None:
            if name not in values:
                raise PlaceholderError(name)
            out.append(str(values[name]))
    return "".join(out)


class NoticeTemplate(PreviewableMixin, models.Model):
    """A library's own wording of a notice to its readers, in one language. Without one, the
    built-in text of libraries/circulation/notices.py is sent."""

    library = models.ForeignKey(
        Library,
        verbose_name=_("library"),
        on_delete=models.CASCADE,
        related_name="notice_templates",
    )
    kind = models.CharField(_("notice"), max_length=20, choices=NoticeKind.choices)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="vi",
        help_text=_("Readers who chose English on their account receive the English text."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notice template")
        verbose_name_plural = _("notice templates")
        ordering = ["library__code", "kind", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "kind", "language"],
                name="notice_template_once",
                violation_error_message=_("This library already has this notice in this language."),
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.library.code} · {self.language}"

    def clean(self):
        super().clean()
        if self.kind not in NOTICE_PLACEHOLDERS:
            return
        errors = {}
        for field in ("subject", "body"):
            try:
                check_notice_text(getattr(self, field), self.kind)
            except PlaceholderError as error:
                errors[field] = str(error)
        if errors:
            raise ValidationError(errors)

    def render(self, values: dict[str, str]) -> tuple[str, str]:
        """(subject on one line, body) filled with `values`."""
        subject = " ".join(fill_notice_text(self.subject, values).split())
        return subject, fill_notice_text(self.body, values)

    def get_preview_template(self, request, mode_name):
        return "libraries/circulation/notice_preview.html"

    def get_preview_context(self, request, mode_name):
        context = super().get_preview_context(request, mode_name)
        subject, body = self.render(NOTICE_SAMPLE_VALUES)
        context.update(notice=self, subject=subject, body=body)
        return context
