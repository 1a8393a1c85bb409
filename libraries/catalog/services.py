"""Catalog services: records, items and the barcodes they carry.

Records are shared by the whole network; items belong to one library. Barcodes are the
owning library's code plus a number from that library's sequence, never reused: the
sequence row is locked while numbers are handed out, so parallel requests never collide.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries import access
from libraries.models import BarcodeSequence, Item, Library, Record, Shelf
from libraries.network.audit import changes, field_values, log_change, stored_values
from training_site.text import normalise_isbn

BARCODE_DIGITS = 7
# Audit log actions (libraries/network/audit.py); labels in libraries/wagtail_hooks.py.
ITEM_CREATE_ACTION = "libraries.item.create"
ITEM_EDIT_ACTION = "libraries.item.edit"


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


def touch_records(record_ids) -> None:
    """Mark records changed (updated_at = now) because their copies changed: their OAI-PMH
    datestamp moves, so incremental harvests see the new holdings."""
    ids = {pk for pk in record_ids if pk is not None}
    if ids:
        Record.objects.filter(pk__in=ids).update(updated_at=timezone.now())


def check_shelf(item: Item) -> None:
    """An item's shelf is one of its owning library's shelves."""
    if item.shelf_id and item.shelf.library_id != item.library_id:
        raise CatalogError(
            _("Shelf %(shelf)s belongs to %(library)s, not to the item's library.")
            % {"shelf": item.shelf.code, "library": item.shelf.library.code}
        )


@transaction.atomic
def save_item(item: Item, *, by=None) -> Item:
    """Create or update an item: barcode from the library's sequence when blank.

    With `by`, the user must reach the owning library with a staff role, and the change is
    logged (`libraries.item.create|edit`, the changed fields before and after). The record
    (and the record the item left, if it moved) is marked changed for OAI-PMH harvesters.
    """
    if by is not None and not access.reaches(by, item.library):
        raise CatalogError(_("You may only change items of libraries you work for."))
    check_shelf(item)
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
    stored = stored_values(item)
    created = not stored
    item.save()
    touch_records([item.record_id, stored.get("record")])
    if by is not None:
        before, after = changes(stored, field_values(item))
        if after or before:
            action = ITEM_CREATE_ACTION if created else ITEM_EDIT_ACTION
            log_change(item, action, by=by, before=before, after=after, library=item.library)
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


# --- Changing many items at once --------------------------------------------------------------

BULK_ITEM_FIELDS = ("status", "location", "item_type", "shelf")
# Statuses staff set by hand; the others follow loans, holds and transfers.
HAND_SET_STATUSES = (
    Item.Status.AVAILABLE,
    Item.Status.IN_PROCESS,
    Item.Status.MISSING,
    Item.Status.LOST,
    Item.Status.DAMAGED,
    Item.Status.WITHDRAWN,
)
CIRCULATING_STATUSES = (Item.Status.ON_LOAN, Item.Status.IN_TRANSIT, Item.Status.ON_HOLD_SHELF)
MAX_BULK_ITEMS = 2000
BULK_EDIT_ACTION = "libraries.item.bulk_edit"


def _field_value(item: Item, name: str):
    """A field's value as stored: a code, or the primary key of a library or shelf."""
    return getattr(item, f"{name}_id") if name in ("location", "shelf") else getattr(item, name)


@transaction.atomic
def bulk_update_items(*, item_ids, by, changes: dict) -> list[Item]:
    """Set the same status, location, item type and/or shelf on many items in one transaction.

    `changes` maps some of BULK_ITEM_FIELDS to their new value (a Library or Shelf for
    location and shelf; shelf None takes the items off their shelf). Every item must be in a
    library `by` reaches, or nothing changes (PermissionDenied). Items on loan, in transit or
    on the hold shelf keep their status and location (CatalogError). Returns the items that
    changed; each gets an audit log entry with its values before and after.
    """
    changes = {name: value for name, value in changes.items() if name in BULK_ITEM_FIELDS}
    if not changes:
        raise CatalogError(_("Choose at least one change."))
    try:
        ids = sorted({int(pk) for pk in item_ids})
    except (TypeError, ValueError):
        raise PermissionDenied(_("You may only change items of libraries you work for."))
    if not ids:
        raise CatalogError(_("Select at least one item."))
    if len(ids) > MAX_BULK_ITEMS:
        raise CatalogError(
            _("At most %(count)s items can be changed at a time.") % {"count": MAX_BULK_ITEMS}
        )
    items = list(
        Item.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("library")
        .order_by("pk")
    )
    if len(items) != len(ids) or not all(access.reaches(by, item.library) for item in items):
        raise PermissionDenied(_("You may only change items of libraries you work for."))
    _check_bulk_changes(items, changes)
    values = {
        name: (value.pk if isinstance(value, Library | Shelf) else value)
        for name, value in changes.items()
    }
    now = timezone.now()
    changed = []
    for item in items:
        before = {name: _field_value(item, name) for name in values}
        after = {name: value for name, value in values.items() if before[name] != value}
        if not after:
            continue
        for name, value in after.items():
            setattr(item, f"{name}_id" if name in ("location", "shelf") else name, value)
        item.updated_at = now
        changed.append((item, {name: before[name] for name in after}, after))
    if changed:
        fields = sorted({name for _item, _before, after in changed for name in after})
        Item.objects.bulk_update([item for item, _b, _a in changed], [*fields, "updated_at"])
        touch_records(item.record_id for item, _b, _a in changed)
        batch = uuid.uuid4()
        for item, before, after in changed:
            log_change(
                item,
                BULK_EDIT_ACTION,
                by=by,
                before=before,
                after=after,
                library=item.library,
                batch=batch,
            )
    return [item for item, _b, _a in changed]


def _check_bulk_changes(items: list[Item], changes: dict) -> None:
    status = changes.get("status")
    if status is not None and status not in HAND_SET_STATUSES:
        raise CatalogError(_("This status follows loans, holds and transfers: choose another."))
    item_type = changes.get("item_type")
    if item_type is not None and item_type not in Item.Type.values:
        raise CatalogError(_("Unknown item type."))
    location = changes.get("location")
    if "location" in changes and (location is None or not location.is_active):
        raise CatalogError(_("Choose an active library as the location."))
    if status is not None or location is not None:
        busy = [item.barcode for item in items if item.status in CIRCULATING_STATUSES]
        if busy:
            raise CatalogError(
                _(
                    "These items are on loan, in transit or on the hold shelf; their status "
                    "and location follow circulation: %(barcodes)s"
                )
                % {"barcodes": ", ".join(busy[:20])}
            )
    shelf = changes.get("shelf")
    if shelf is not None:
        elsewhere = [item.barcode for item in items if item.library_id != shelf.library_id]
        if elsewhere:
            raise CatalogError(
                _("Shelf %(shelf)s belongs to %(library)s; these items do not: %(barcodes)s")
                % {
                    "shelf": shelf.code,
                    "library": shelf.library.code,
                    "barcodes": ", ".join(elsewhere[:20]),
                }
            )
