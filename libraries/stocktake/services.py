"""Stocktaking: record what staff scan on the shelves and compare it with the catalog.

Scanning never changes loans or item statuses; only closing a stocktake with the staff's
explicit confirmation marks the expected-but-unseen items as missing.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.access import reaches
from libraries.catalog.services import touch_records
from libraries.circulation.services import CirculationError, normalise_code
from libraries.models import Item, Library, Shelf, Stocktake, StocktakeScan

# Statuses that mean the item should not be on a shelf.
ABSENT_STATUSES = {
    Item.Status.ON_LOAN,
    Item.Status.IN_TRANSIT,
    Item.Status.MISSING,
    Item.Status.LOST,
    Item.Status.WITHDRAWN,
}


class StocktakeError(CirculationError):
    pass


def _ensure_staff(by, library: Library) -> None:
    if not reaches(by, library):
        raise StocktakeError(_("You are not allowed to work at this library."), "not_allowed")


@transaction.atomic
def start_stocktake(
    *, library: Library, by, call_number_prefix: str = "", shelf: Shelf | None = None
) -> Stocktake:
    """Open a stocktake of the whole library, of the call numbers starting with a prefix, or
    of one of the library's shelves (not both a prefix and a shelf)."""
    _ensure_staff(by, library)
    prefix = call_number_prefix.strip()
    if shelf is not None and shelf.library_id != library.pk:
        raise StocktakeError(_("This shelf belongs to another library."), "shelf")
    if shelf is not None and prefix:
        raise StocktakeError(
            _("Count either one shelf or a call-number prefix, not both."), "shelf"
        )
    open_ones = Stocktake.objects.filter(library=library, status=Stocktake.Status.OPEN)
    if shelf is not None:
        clash = open_ones.filter(shelf=shelf)
    else:
        clash = open_ones.filter(shelf__isnull=True, call_number_prefix=prefix)
    if clash.exists():
        raise StocktakeError(_("A stocktake of these shelves is already in progress."), "open")
    try:
        with transaction.atomic():
            return Stocktake.objects.create(
                library=library, call_number_prefix=prefix, shelf=shelf, started_by=by
            )
    except IntegrityError:
        raise StocktakeError(_("A stocktake of these shelves is already in progress."), "open")


def classify(stocktake: Stocktake, item: Item | None) -> str:
    if item is None:
        return StocktakeScan.Result.UNKNOWN
    if item.library_id != stocktake.library_id:
        return StocktakeScan.Result.MISPLACED
    if stocktake.shelf_id and item.shelf_id != stocktake.shelf_id:
        return StocktakeScan.Result.MISPLACED
    if (
        not stocktake.shelf_id
        and stocktake.call_number_prefix
        and not item.call_number.startswith(stocktake.call_number_prefix)
    ):
        return StocktakeScan.Result.MISPLACED
    if item.status in ABSENT_STATUSES:
        return StocktakeScan.Result.WRONG_STATUS
    return StocktakeScan.Result.FOUND


@transaction.atomic
def record_scans(*, stocktake_id: int, barcodes: list[str], by) -> list[StocktakeScan]:
    """Record scanned barcodes in order. A barcode scanned twice is kept once."""
    stocktake = Stocktake.objects.select_for_update().select_related("library").get(pk=stocktake_id)
    _ensure_staff(by, stocktake.library)
    if stocktake.status != Stocktake.Status.OPEN:
        raise StocktakeError(_("This stocktake is closed."), "closed")
    codes = list(dict.fromkeys(c for c in (normalise_code(b) for b in barcodes) if c))
    existing = set(
        StocktakeScan.objects.filter(stocktake=stocktake, barcode__in=codes).values_list(
            "barcode", flat=True
        )
    )
    new_codes = [c for c in codes if c not in existing]
    items = {
        i.barcode: i
        for i in Item.objects.filter(barcode__in=new_codes).select_related("library", "shelf")
    }
    now = timezone.now()
    scans = [
        StocktakeScan(
            stocktake=stocktake,
            barcode=code,
            item=items.get(code),
            result=classify(stocktake, items.get(code)),
            scanned_at=now,
            scanned_by=by,
        )
        for code in new_codes
    ]
    StocktakeScan.objects.bulk_create(scans, batch_size=500)
    return scans


@dataclass
class StocktakeReport:
    stocktake: Stocktake
    expected: int = 0
    found: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    misplaced: list = field(default_factory=list)
    unknown: list = field(default_factory=list)
    wrong_status: list = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "found": len(self.found),
            "missing": len(self.missing),
            "misplaced": len(self.misplaced),
            "unknown": len(self.unknown),
            "wrong_status": len(self.wrong_status),
        }

    def rows(self):
        """(section, barcode, title, call number, owner, shelf, status) for the exports; the
        shelf is the item's home shelf in the catalog (where a misplaced item belongs)."""
        sections = [
            (_("Found"), self.found),
            (_("Missing"), self.missing),
            (_("Misplaced"), self.misplaced),
            (_("Wrong status"), self.wrong_status),
        ]
        for label, entries in sections:
            for item in entries:
                yield (
                    label,
                    item.barcode,
                    item.record.title,
                    item.call_number,
                    item.library.code,
                    item.shelf.code if item.shelf_id else "",
                    item.get_status_display(),
                )
        for barcode in self.unknown:
            yield (_("Unknown barcode"), barcode, "", "", "", "", "")


def home_of(item: Item) -> str:
    """Where a misplaced item belongs: its library's code and its shelf, e.g. "THCSA · A2"."""
    return f"{item.library.code} · {item.shelf.code}" if item.shelf_id else item.library.code


def scan_label(scan: StocktakeScan) -> str:
    """What the scanning page shows for a scan: the result, and for a misplaced item where
    it belongs."""
    label = str(scan.get_result_display())
    if scan.result == StocktakeScan.Result.MISPLACED and scan.item is not None:
        label += " · " + _("belongs on %(home)s") % {"home": home_of(scan.item)}
    return label


def counts(stocktake: Stocktake) -> dict[str, int]:
    """Live counts for the scanning page, computed by the database."""
    by_result = dict(
        stocktake.scans.values_list("result").annotate(n=Count("pk")).values_list("result", "n")
    )
    expected = stocktake.expected_items().count()
    scanned_expected = (
        stocktake.scans.filter(item__in=stocktake.expected_items()).values("item").count()
    )
    return {
        "expected": expected,
        "scanned": sum(by_result.values()),
        "found": by_result.get(StocktakeScan.Result.FOUND, 0),
        "misplaced": by_result.get(StocktakeScan.Result.MISPLACED, 0),
        "unknown": by_result.get(StocktakeScan.Result.UNKNOWN, 0),
        "wrong_status": by_result.get(StocktakeScan.Result.WRONG_STATUS, 0),
        "not_yet_seen": expected - scanned_expected,
    }


def report(stocktake: Stocktake) -> StocktakeReport:
    result = StocktakeReport(stocktake=stocktake)
    scans = list(
        stocktake.scans.select_related("item__record", "item__library", "item__shelf").order_by(
            "scanned_at", "pk"
        )
    )
    seen_items = {s.item_id for s in scans if s.item_id}
    expected = list(
        stocktake.expected_items()
        .select_related("record", "library", "shelf")
        .order_by("call_number", "barcode")
    )
    result.expected = len(expected)
    for scan in scans:
        if scan.result == StocktakeScan.Result.UNKNOWN:
            result.unknown.append(scan.barcode)
        elif scan.result == StocktakeScan.Result.MISPLACED:
            result.misplaced.append(scan.item)
        elif scan.result == StocktakeScan.Result.WRONG_STATUS:
            result.wrong_status.append(scan.item)
        else:
            result.found.append(scan.item)
    # Missing: expected on the shelf (not on loan or in transit) and not scanned.
    result.missing = [
        item
        for item in expected
        if item.pk not in seen_items and item.status not in ABSENT_STATUSES
    ]
    return result


@transaction.atomic
def close_stocktake(*, stocktake_id: int, by, mark_missing: bool) -> Stocktake:
    """Close; only when staff confirm are the unseen items marked missing."""
    stocktake = Stocktake.objects.select_for_update().select_related("library").get(pk=stocktake_id)
    _ensure_staff(by, stocktake.library)
    if stocktake.status != Stocktake.Status.OPEN:
        raise StocktakeError(_("This stocktake is closed."), "closed")
    if mark_missing:
        missing_ids = [item.pk for item in report(stocktake).missing]
        marked = dict(
            Item.objects.select_for_update()
            .filter(pk__in=missing_ids, status__in=[Item.Status.AVAILABLE, Item.Status.IN_PROCESS])
            .values_list("pk", "record_id")
        )
        stocktake.missing_marked = Item.objects.filter(pk__in=marked).update(
            status=Item.Status.MISSING, updated_at=timezone.now()
        )
        touch_records(marked.values())  # OAI-PMH: their records' datestamps move
    stocktake.status = Stocktake.Status.CLOSED
    stocktake.closed_at = timezone.now()
    stocktake.closed_by = by
    stocktake.save(update_fields=["status", "closed_at", "closed_by", "missing_marked"])
    return stocktake
