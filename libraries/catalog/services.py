"""Catalog services: records, items and the barcodes they carry.

Records are shared by the whole network; items belong to one library. Barcodes are the
owning library's code plus a number from that library's sequence, never reused: the
sequence row is locked while numbers are handed out, so parallel requests never collide.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from libraries import access
from libraries.models import BarcodeSequence, Item, Library, Record
from training_site.text import normalise_isbn

BARCODE_DIGITS = 7


class CatalogError(ValidationError):
    """A catalog rule refused a change; the message is for staff."""


def format_barcode(library: Library, number: int) -> str:
    return f"{library.code}{number:0{BARCODE_DIGITS}d}"


@transaction.atomic
def next_barcodes(library: Library, count: int = 1) -> list[str]:
    """Reserve `count` new barcodes for the library. Numbers are never handed out twice.

    The library's sequence row is locked (SELECT ... FOR UPDATE) for the length of the
    transaction; numbers already taken by an imported barcode are skipped.
    """
    if count <= 0:
        return []
    BarcodeSequence.objects.get_or_create(library=library)
    sequence = BarcodeSequence.objects.select_for_update().get(library=library)
    barcodes: list[str] = []
    number = sequence.last_number
    while len(barcodes) < count:
        wanted = count - len(barcodes)
        candidates = [format_barcode(library, number + i + 1) for i in range(wanted)]
        number += wanted
        taken = set(Item.objects.filter(barcode__in=candidates).values_list("barcode", flat=True))
        barcodes.extend(c for c in candidates if c not in taken)
    sequence.last_number = number
    sequence.save(update_fields=["last_number"])
    return barcodes


def next_barcode(library: Library) -> str:
    """One new barcode for an item of `library`."""
    return next_barcodes(library, 1)[0]


def check_record(record: Record) -> None:
    if not (record.title or "").strip():
        raise CatalogError(_("A record needs a title."))
    if record.isbn:
        isbn13 = normalise_isbn(record.isbn)
        if not isbn13:
            raise CatalogError(
                _("“%(isbn)s” is not a valid ISBN (check the digits).") % {"isbn": record.isbn}
            )
        record.isbn = isbn13


@transaction.atomic
def save_record(record: Record, *, library: Library | None = None) -> Record:
    """Create or update a record after checking it (ISBN normalised to ISBN-13)."""
    check_record(record)
    if record.pk is None and library is not None and record.source_library_id is None:
        record.source_library = library
    record.save()
    return record


@transaction.atomic
def save_item(item: Item, *, by=None) -> Item:
    """Create or update an item: barcode from the library's sequence when blank.

    With `by`, the user must reach the owning library with a staff role.
    """
    if by is not None and not access.reaches(by, item.library):
        raise CatalogError(_("You may only change items of libraries you work for."))
    if item.location_id is None:
        item.location = item.library
    if not item.call_number and item.record_id:
        item.call_number = item.record.call_number
    if not item.barcode:
        item.barcode = next_barcode(item.library)
    else:
        item.barcode = item.barcode.strip().upper()
        clash = Item.objects.filter(barcode=item.barcode).exclude(pk=item.pk).first()
        if clash is not None:
            raise CatalogError(
                _("Barcode %(barcode)s is already used by an item of %(library)s.")
                % {"barcode": item.barcode, "library": clash.library.code}
            )
    item.save()
    return item


def add_items(*, record: Record, library: Library, count: int = 1, by=None, **fields) -> list:
    """Add `count` new copies of a record to a library, each with a fresh barcode."""
    with transaction.atomic():
        barcodes = next_barcodes(library, count)
        items = []
        for barcode in barcodes:
            item = Item(record=record, library=library, barcode=barcode, **fields)
            items.append(save_item(item, by=by))
    return items
