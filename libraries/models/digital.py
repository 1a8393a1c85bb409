"""The digital collection: e-books and documents on catalog records, their licences and loans.

A catalog record may have print items and digital files. A file belongs to one library and
has one access level; a lending file has a number of licences, and each open digital loan
holds one licence slot (1..licences): the database refuses two open loans on one slot, and
the service hands out slots only up to the file's licences while it holds the file's row.
Readers waiting for a licence are holds on the record that name the file (`Hold.digital_file`).
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalog import Record, private_storage
from .network import Library
from .patrons import Patron, PatronCategory

# The item type of the circulation rules that set digital loans (loan days, loans at once).
DIGITAL_ITEM_TYPE = "digital"
# How long a reader told that a licence is free has to borrow it.
DIGITAL_OFFER_HOURS = 48


def digital_file_name(instance, filename: str) -> str:
    """A generated name in private storage: nothing of the uploader's file name is used."""
    return f"digital/{uuid.uuid4().hex}"


class DigitalFileQuerySet(models.QuerySet):
    def of_record(self, record):
        return self.filter(record=record).select_related("library").order_by("pk")

    def open_access(self):
        return self.filter(access=DigitalFile.Access.OPEN)

    def lending(self):
        return self.filter(access=DigitalFile.Access.LENDING)


class DigitalFile(models.Model):
    """One EPUB or PDF of a catalog record, owned by a library, behind an access level."""

    class Kind(models.TextChoices):
        EPUB = "epub", _("EPUB e-book")
        PDF = "pdf", _("PDF document")

    class Access(models.TextChoices):
        OPEN = "open", _("Open to everyone")
        MEMBERS = "members", _("Members of the network (logged in)")
        CARDHOLDERS = "cardholders", _("Card holders of chosen libraries")
        LENDING = "lending", _("Lending with licences")

    CONTENT_TYPES = {Kind.EPUB: "application/epub+zip", Kind.PDF: "application/pdf"}

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.PROTECT, related_name="digital_files"
    )
    library = models.ForeignKey(
        Library,
        verbose_name=_("owning library"),
        on_delete=models.PROTECT,
        related_name="digital_files",
    )
    kind = models.CharField(_("format"), max_length=10, choices=Kind.choices)
    label = models.CharField(
        _("label"),
        max_length=200,
        blank=True,
        help_text=_(
            "Tells several files of one record apart (e.g. “Volume 2”, “Teacher's guide”)."
        ),
    )
    access = models.CharField(
        _("access"), max_length=12, choices=Access.choices, default=Access.LENDING
    )
    licences = models.PositiveSmallIntegerField(
        _("licences"),
        default=0,
        help_text=_("How many readers may borrow it at the same time (lending only)."),
    )
    cardholder_libraries = models.ManyToManyField(
        Library,
        verbose_name=_("card holders of"),
        blank=True,
        related_name="+",
        help_text=_("Readers whose card belongs to these libraries (or those below them)."),
    )
    file = models.FileField(
        _("file"), upload_to=digital_file_name, storage=private_storage, max_length=200
    )
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    cover = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What the file says about itself (title, creators, language, publisher, date,
    # identifiers) and how it was matched to its record: staff see both on the edit screen.
    metadata = models.JSONField(_("metadata in the file"), default=dict, blank=True)
    matched_by = models.CharField(_("matched by"), max_length=20, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DigitalFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("digital file")
        verbose_name_plural = _("digital files")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "sha256"], name="digitalfile_once_per_library"
            ),
            models.CheckConstraint(
                condition=~Q(access="lending") | Q(licences__gte=1),
                name="digitalfile_lending_has_licences",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["epub", "pdf"]), name="digitalfile_known_kind"
            ),
        ]
        indexes = [models.Index(fields=["record", "access"], name="digitalfile_record_access")]

    def __str__(self):
        return f"{self.record} · {self.get_kind_display()} · {self.library.code}"

    @property
    def content_type(self) -> str:
        return self.CONTENT_TYPES[self.kind]

    @property
    def extension(self) -> str:
        return self.kind

    @property
    def is_lending(self) -> bool:
        return self.access == self.Access.LENDING

    @property
    def is_open(self) -> bool:
        return self.access == self.Access.OPEN


class DigitalText(models.Model):
    """The words of a file, searched by the catalog as a second step.

    `words` is the file's folded vocabulary (each distinct word once, padded with spaces),
    far smaller than the text; `body` is the plain text of an open-access file (empty for the
    others), read only for the snippets of the records on a result page. Kept apart from
    Record so the record search stays small.
    """

    file = models.OneToOneField(
        DigitalFile, primary_key=True, on_delete=models.CASCADE, related_name="text"
    )
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    words = models.TextField(default="", blank=True)
    body = models.TextField(default="", blank=True)

    class Meta:
        verbose_name = _("text of a digital file")
        verbose_name_plural = _("texts of digital files")

    def __str__(self):
        return f"text of {self.file_id}"


class DigitalWordPlace(models.Model):
    """Where a word first occurs in the body of an open-access file (a character offset),
    so a result page cuts a passage around a query word without reading the whole text."""

    text = models.ForeignKey(DigitalText, on_delete=models.CASCADE, related_name="places")
    word = models.CharField(max_length=100)  # folded, as in DigitalText.words
    at = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("place of a word in a digital file")
        verbose_name_plural = _("places of words in digital files")
        constraints = [
            models.UniqueConstraint(fields=["text", "word"], name="digitalwordplace_once")
        ]

    def __str__(self):
        return f"{self.word}@{self.at}"


class DigitalLoanQuerySet(models.QuerySet):
    def open(self):
        return self.filter(returned_at__isnull=True)

    def expired(self, now=None):
        """Open loans past their end: returned by themselves (expire_digital_loans)."""
        return self.open().filter(due_at__lte=now or timezone.now())

    def on_loan_to(self, patron):
        """A reader's open digital loans, soonest ending first, with what their pages show."""
        return (
            self.open()
            .filter(patron=patron)
            .select_related("file__record", "file__library", "library")
            .order_by("due_at", "pk")
        )

    def counts_by_library(self, libraries=None, *, since=None):
        """Per lending library id: {"loans", "open", "readers"} (loans counted since `since`)."""
        qs = self.all()
        if libraries is not None:
            qs = qs.filter(library__in=libraries)
        if since is not None:
            qs = qs.filter(borrowed_at__gte=since)
        rows = qs.values("library_id").annotate(
            loans=Count("pk"),
            open=Count("pk", filter=Q(returned_at__isnull=True)),
            readers=Count("patron", distinct=True),
        )
        return {
            row["library_id"]: {
                "loans": row["loans"],
                "open": row["open"],
                "readers": row["readers"],
            }
            for row in rows
        }


class DigitalLoan(models.Model):
    """One licence of a lending file lent to one reader until `due_at`. No fines."""

    class Ended(models.TextChoices):
        RETURNED = "returned", _("Returned by the reader")
        EXPIRED = "expired", _("Ended at the end of the loan")
        WITHDRAWN = "withdrawn", _("Ended by the library")

    file = models.ForeignKey(
        DigitalFile, verbose_name=_("digital file"), on_delete=models.PROTECT, related_name="loans"
    )
    slot = models.PositiveSmallIntegerField(_("licence"))
    patron = models.ForeignKey(
        Patron,
        verbose_name=_("reader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="digital_loans",
        help_text=_("Empty once the loan has been anonymised."),
    )
    patron_category = models.CharField(
        _("reader category"), max_length=10, choices=PatronCategory.choices
    )
    library = models.ForeignKey(
        Library, verbose_name=_("lent by"), on_delete=models.PROTECT, related_name="digital_loans"
    )
    borrowed_at = models.DateTimeField(_("borrowed at"), default=timezone.now)
    due_at = models.DateTimeField(_("ends at"))
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    ended = models.CharField(_("how it ended"), max_length=10, choices=Ended.choices, blank=True)

    objects = DigitalLoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("digital loan")
        verbose_name_plural = _("digital loans")
        constraints = [
            models.UniqueConstraint(
                fields=["file", "slot"],
                condition=Q(returned_at__isnull=True),
                name="digitalloan_one_open_per_licence",
            ),
            models.UniqueConstraint(
                fields=["file", "patron"],
                condition=Q(returned_at__isnull=True),
                name="digitalloan_one_open_per_reader",
            ),
            models.CheckConstraint(condition=Q(slot__gte=1), name="digitalloan_slot_positive"),
            models.CheckConstraint(
                condition=Q(due_at__gt=F("borrowed_at")), name="digitalloan_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["patron", "returned_at"], name="digitalloan_patron"),
            models.Index(fields=["returned_at", "due_at"], name="digitalloan_open_due"),
            models.Index(fields=["library", "borrowed_at"], name="digitalloan_library"),
        ]

    def __str__(self):
        return f"{self.file} → {self.patron or '—'}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None


def offer_ends_at(ready_at: datetime.datetime) -> datetime.datetime:
    """When a licence offered to the next waiting reader passes on."""
    return ready_at + datetime.timedelta(hours=DIGITAL_OFFER_HOURS)


class ExternalLink(models.Model):
    """An electronic resource elsewhere (MARC 856 of an imported record)."""

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.CASCADE, related_name="external_links"
    )
    url = models.URLField(_("address"), max_length=2000)
    note = models.CharField(_("note"), max_length=500, blank=True)
    link_text = models.CharField(_("link text"), max_length=500, blank=True)
    content_type = models.CharField(_("type"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("external e-resource")
        verbose_name_plural = _("external e-resources")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["record", "url"], name="externallink_once_per_record")
        ]

    def __str__(self):
        return self.url
