"""Stocktaking: staff scan what is on the shelves; the report compares it with the catalog."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalog import Item, Shelf
from .network import Library


class Stocktake(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        CLOSED = "closed", _("Closed")

    library = models.ForeignKey(
        Library, verbose_name=_("library"), on_delete=models.PROTECT, related_name="stocktakes"
    )
    call_number_prefix = models.CharField(
        _("shelf (call number starts with)"),
        max_length=100,
        blank=True,
        help_text=_("Leave blank to count the whole library."),
    )
    shelf = models.ForeignKey(
        Shelf,
        verbose_name=_("shelf"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stocktakes",
        help_text=_("Count one shelf: the items placed on it in the catalog."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="open")
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    missing_marked = models.PositiveIntegerField(_("items marked missing"), default=0)

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "call_number_prefix"],
                condition=Q(status="open", shelf__isnull=True),
                name="stocktake_one_open_per_prefix",
            ),
            models.UniqueConstraint(
                fields=["shelf"],
                condition=Q(status="open", shelf__isnull=False),
                name="stocktake_one_open_by_shelf",
            ),
            models.CheckConstraint(
                condition=Q(shelf__isnull=True) | Q(call_number_prefix=""),
                name="stocktake_shelf_or_prefix",
            ),
        ]

    def __str__(self):
        scope = self.shelf.code if self.shelf_id else self.call_number_prefix
        return f"{self.library.code} {scope} {self.started_at:%Y-%m-%d}"

    def expected_items(self):
        """Items that should be on these shelves: owned here and not withdrawn or lost."""
        items = Item.objects.filter(library=self.library).exclude(
            status__in=[Item.Status.WITHDRAWN, Item.Status.LOST]
        )
        if self.shelf_id:
            items = items.filter(shelf_id=self.shelf_id)
        elif self.call_number_prefix:
            items = items.filter(call_number__startswith=self.call_number_prefix)
        return items


class StocktakeScan(models.Model):
    class Result(models.TextChoices):
        FOUND = "found", _("Found")
        MISPLACED = "misplaced", _("Misplaced")
        UNKNOWN = "unknown", _("Unknown barcode")
        WRONG_STATUS = "wrong_status", _("Wrong status")

    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="scans")
    barcode = models.CharField(_("barcode"), max_length=64)
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.CharField(_("result"), max_length=12, choices=Result.choices)
    scanned_at = models.DateTimeField(_("scanned at"), default=timezone.now)
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stocktake scan")
        constraints = [
            models.UniqueConstraint(fields=["stocktake", "barcode"], name="stocktake_scan_once")
        ]

    def __str__(self):
        return self.barcode
