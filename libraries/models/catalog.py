"""The union catalog: bibliographic records and the barcoded items libraries hold."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from training_site.text import exact_words, folded_words, nfc, record_fingerprint

from .network import Library


def _padded(words: str) -> str:
    return f" {words} " if words else ""


class Record(models.Model):
    """One bibliographic record, shared by the whole network."""

    title = models.CharField(_("title"), max_length=500)
    subtitle = models.CharField(_("subtitle"), max_length=500, blank=True)
    authors = models.CharField(_("authors"), max_length=500, blank=True)
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    place = models.CharField(_("place of publication"), max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    isbn = models.CharField(_("ISBN-13"), max_length=13, blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=3, blank=True)
    subjects = models.TextField(_("subjects"), blank=True, help_text=_("One subject per line."))
    call_number = models.CharField(_("classification / call number"), max_length=100, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    cover = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    control_number = models.CharField(_("control number (001)"), max_length=100, blank=True)
    control_number_source = models.CharField(
        _("control number source (003)"), max_length=50, blank=True
    )
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    marc = models.BinaryField(_("original MARC record"), null=True, blank=True, editable=False)
    source_library = models.ForeignKey(
        Library,
        verbose_name=_("catalogued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="catalogued_records",
        help_text=_("The library that imported or first catalogued this record."),
    )
    # Search text kept in step by refresh_search_text() (called by save() and by every bulk
    # write): " word word " lower-case, NFC (exact) and accent-folded.
    search_exact = models.TextField(blank=True, default="", editable=False)
    search_folded = models.TextField(blank=True, default="", editable=False)
    title_folded = models.TextField(blank=True, default="", editable=False)
    authors_folded = models.TextField(blank=True, default="", editable=False)
    subjects_folded = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bibliographic record")
        verbose_name_plural = _("bibliographic records")
        indexes = [
            models.Index(fields=["control_number", "control_number_source"]),
            # OAI-PMH harvests page through records in (datestamp, id) order.
            models.Index(fields=["updated_at", "id"], name="record_oai_datestamp"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.refresh_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | set(SEARCH_FIELDS)
        super().save(*args, **kwargs)

    def refresh_search_text(self) -> None:
        """Recompute the search columns and fingerprint from the fields (no save)."""
        for name in ("title", "subtitle", "authors", "publisher", "place", "subjects", "summary"):
            value = getattr(self, name) or ""
            if not value.isascii():
                setattr(self, name, nfc(value))
        title = f"{self.title} {self.subtitle}"
        subjects = self.subjects.replace("\n", " ")
        title_f = folded_words(title)
        authors_f = folded_words(self.authors)
        subjects_f = folded_words(subjects)
        publisher_f = folded_words(self.publisher)
        self.search_exact = _padded(
            exact_words(" ".join([title, self.authors, subjects, self.publisher, self.isbn]))
        )
        self.search_folded = _padded(
            " ".join(w for w in (title_f, authors_f, subjects_f, publisher_f, self.isbn) if w)
        )
        self.title_folded = _padded(title_f)
        self.authors_folded = _padded(authors_f)
        self.subjects_folded = _padded(subjects_f)
        self.fingerprint = record_fingerprint(
            title=self.title, authors=self.authors, publisher=self.publisher, year=self.year
        )

    @property
    def subject_list(self) -> list[str]:
        return [line.strip() for line in self.subjects.splitlines() if line.strip()]


# What a cataloguer describes (the staff form, MARC import and export map the same fields).
DESCRIPTIVE_FIELDS = (
    "title",
    "subtitle",
    "authors",
    "publisher",
    "place",
    "year",
    "isbn",
    "language",
    "subjects",
    "call_number",
    "summary",
)
SEARCH_FIELDS = (
    "search_exact",
    "search_folded",
    "title_folded",
    "authors_folded",
    "subjects_folded",
    "fingerprint",
)


class Shelf(models.Model):
    """A shelf (or bay) of one library: where its items go back, printed on their labels and
    counted on its own in a stocktake."""

    library = models.ForeignKey(
        Library, verbose_name=_("library"), on_delete=models.CASCADE, related_name="shelves"
    )
    code = models.CharField(
        _("code"),
        max_length=20,
        help_text=_("Short, printed on spine labels, e.g. A1 or TN-2."),
    )
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("e.g. Children's stories")
    )

    class Meta:
        verbose_name = _("shelf")
        verbose_name_plural = _("shelves")
        ordering = ["library__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["library", "code"], name="shelf_code_per_library"),
            models.CheckConstraint(condition=~Q(code=""), name="shelf_code_not_empty"),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}" if self.name else self.code

    def clean(self):
        self.code = " ".join((self.code or "").split()).upper()


class ItemQuerySet(models.QuerySet):
    def available(self):
        return self.filter(status=Item.Status.AVAILABLE)


class Item(models.Model):
    """One physical copy with a barcode unique across the network."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        ON_LOAN = "on_loan", _("On loan")
        IN_TRANSIT = "in_transit", _("In transit")
        ON_HOLD_SHELF = "on_hold_shelf", _("On hold shelf")
        IN_PROCESS = "in_process", _("In process")
        MISSING = "missing", _("Missing")
        LOST = "lost", _("Lost")
        DAMAGED = "damaged", _("Damaged")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Type(models.TextChoices):
        BOOK = "book", _("Book")
        TEXTBOOK = "textbook", _("Textbook")
        REFERENCE = "reference", _("Reference")
        PERIODICAL = "periodical", _("Periodical")
        MEDIA = "media", _("Audio-visual")

    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.PROTECT, related_name="items"
    )
    library = models.ForeignKey(
        Library, verbose_name=_("owning library"), on_delete=models.PROTECT, related_name="items"
    )
    location = models.ForeignKey(
        Library,
        verbose_name=_("current location"),
        on_delete=models.PROTECT,
        related_name="items_here",
    )
    barcode = models.CharField(_("barcode"), max_length=32, unique=True)
    call_number = models.CharField(_("call number"), max_length=100, blank=True)
    shelf = models.ForeignKey(
        Shelf,
        verbose_name=_("shelf"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        help_text=_("A shelf of the owning library."),
    )
    item_type = models.CharField(
        _("item type"), max_length=20, choices=Type.choices, default=Type.BOOK
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AVAILABLE, db_index=True
    )
    acquired_on = models.DateField(_("acquisition date"), null=True, blank=True)
    price = models.DecimalField(
        _("price (VND)"), max_digits=12, decimal_places=0, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        indexes = [
            models.Index(fields=["record", "library", "status"]),
            # Catalog search "in this library" / "available now": the items of one library
            # in one status, in record order (a merge with the records' primary key).
            models.Index(fields=["library", "status", "record"], name="item_library_status_rec"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(barcode=""), name="item_barcode_not_empty")
        ]

    def __str__(self):
        return f"{self.barcode} · {self.record}"

    def clean(self):
        super().clean()
        if self.shelf_id and self.library_id and self.shelf.library_id != self.library_id:
            raise ValidationError(
                {"shelf": _("This shelf belongs to another library than the item.")}
            )

    def save(self, *args, **kwargs):
        if self.location_id is None and self.library_id is not None:
            self.location_id = self.library_id
        super().save(*args, **kwargs)


class BarcodeSequence(models.Model):
    """The next barcode number of one library: numbers are never reused."""

    library = models.OneToOneField(
        Library, on_delete=models.CASCADE, related_name="barcode_sequence"
    )
    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("barcode sequence")

    def __str__(self):
        return f"{self.library.code}: {self.last_number}"


def private_storage():
    """Where import files wait for their job: outside MEDIA_ROOT, never served by URL."""
    return storages["private"]


def marc_import_name(instance, filename: str) -> str:
    """A generated name: nothing of the uploader's file name reaches the storage."""
    return f"marc-imports/{uuid.uuid4().hex}"


class MarcImportJob(models.Model):
    """One MARC file uploaded in the admin and imported by a background task.

    The file is kept in private storage only until the job has run; the job row keeps the
    original name as text and the report.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        MARC = "marc", _("MARC21 (binary, .mrc)")
        MARCXML = "marcxml", _("MARCXML")

    library = models.ForeignKey(
        Library, verbose_name=_("library"), on_delete=models.CASCADE, related_name="marc_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(
        _("file"), upload_to=marc_import_name, storage=private_storage, blank=True
    )
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_format = models.CharField(
        _("format"), max_length=10, choices=Format.choices, default=Format.MARC
    )
    encoding = models.CharField(_("encoding"), max_length=30, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    items_count = models.PositiveIntegerField(_("items"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("MARC import")
        verbose_name_plural = _("MARC imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="marcimport_progress_pct")
        ]

    def __str__(self):
        return f"{self.original_name} → {self.library.code}"


def oai_sets_of(record_ids) -> dict[int, list[str]]:
    """The OAI-PMH set specs of each record: library:CODE for every library holding a copy,
    district:CODE for every district library at or above one of them."""
    rows = (
        Item.objects.filter(record_id__in=record_ids)
        .values_list("record_id", "library__code", "library__path")
        .distinct()
    )
    rows = list(rows)
    ancestor_ids = {int(p) for _r, _c, path in rows for p in path.strip("/").split("/") if p}
    districts = dict(
        Library.objects.filter(pk__in=ancestor_ids, kind=Library.Kind.DISTRICT).values_list(
            "pk", "code"
        )
    )
    sets: dict[int, set[str]] = {}
    for record_id, code, path in rows:
        found = sets.setdefault(record_id, set())
        found.add(f"library:{code}")
        for part in path.strip("/").split("/"):
            if part and int(part) in districts:
                found.add(f"district:{districts[int(part)]}")
    return {pk: sorted(found) for pk, found in sets.items()}


class DeletedRecord(models.Model):
    """What OAI-PMH harvesters are told of a deleted record (deletedRecord=persistent)."""

    record_id = models.PositiveIntegerField(unique=True)
    deleted_at = models.DateTimeField(db_index=True)
    # " library:A district:B " (padded) so a set is one LIKE on the row.
    set_specs = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("deleted record")
        verbose_name_plural = _("deleted records")
        indexes = [models.Index(fields=["deleted_at", "record_id"])]

    def __str__(self):
        return f"record {self.record_id} (deleted)"

    @property
    def set_list(self) -> list[str]:
        return self.set_specs.split()


@receiver(pre_delete, sender=Record, dispatch_uid="record_tombstone")
def _keep_tombstone(sender, instance: Record, **kwargs) -> None:
    """Every deletion (one record or a queryset) leaves a tombstone with its sets: those of
    the copies still there and those of the cataloguing library."""
    specs = set(oai_sets_of([instance.pk]).get(instance.pk, []))
    # Items protect their record, so its copies are usually gone by now: the library that
    # catalogued it keeps it in its sets, so set-based harvesters still hear of the deletion.
    library = instance.source_library
    if library is not None:
        specs.add(f"library:{library.code}")
        specs.update(
            f"district:{code}"
            for code in Library.objects.filter(
                pk__in=[int(p) for p in library.path.strip("/").split("/") if p],
                kind=Library.Kind.DISTRICT,
            ).values_list("code", flat=True)
        )
    DeletedRecord.objects.update_or_create(
        record_id=instance.pk,
        defaults={"deleted_at": timezone.now(), "set_specs": _padded(" ".join(sorted(specs)))},
    )
