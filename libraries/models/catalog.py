"""The union catalog: bibliographic records and the barcoded items libraries hold."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .network import Library


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bibliographic record")
        verbose_name_plural = _("bibliographic records")
        indexes = [models.Index(fields=["control_number", "control_number_source"])]

    def __str__(self):
        return self.title


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
        indexes = [models.Index(fields=["record", "library", "status"])]
        constraints = [
            models.CheckConstraint(condition=~Q(barcode=""), name="item_barcode_not_empty")
        ]

    def __str__(self):
        return f"{self.barcode} · {self.record}"


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
