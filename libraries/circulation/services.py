"""Circulation services: check-out, check-in, renewal, holds, transfers and inter-library loans.

Every screen and API calls these. Each action is one transaction that locks the item row
first (then the reader's card when a limit is counted), checks the rules and either returns
a `CirculationResult` or raises `CirculationError` with a reason a librarian understands.
A repeated scan is harmless: it returns the same state with a notice.
"""

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.access import (
    patron_visible_at,
    reaches,
    reader_may_borrow_at,
    visitor_may_borrow,
)
from libraries.circulation.notices import notify_hold_available
from libraries.models import (
    CirculationRule,
    Hold,
    InterLibraryLoan,
    Item,
    Library,
    Loan,
    Patron,
    Record,
    Transfer,
)
from libraries.network.audit import log_reader_change

HOLD_SHELF_DAYS = 7
DEFAULT_RULE = CirculationRule(loan_days=14, max_loans=3, renewals=1, holds_allowed=True)


class CirculationError(Exception):
    """A refusal; the message is shown to the librarian or reader as is."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class CirculationResult:
    message: str
    item: Item | None = None
    loan: Loan | None = None
    hold: Hold | None = None
    transfer: Transfer | None = None
    patron: Patron | None = None
    repeated: bool = False
    notices: list[str] = field(default_factory=list)


# --- lookups -------------------------------------------------------------------------------


def normalise_code(value: str) -> str:
    """Scanners add spaces or lower case; barcodes and card numbers are upper case."""
    return "".join(str(value or "").split()).upper()


def _ensure_desk(by, at: Library | None) -> None:
    if at is None or not reaches(by, at):
        raise CirculationError(_("You are not allowed to work at this library."), "not_allowed")


def _locked(queryset, field: str, scanned: str):
    """The row whose `field` is the scanned code, locked for this transaction, or None."""
    code = normalise_code(scanned)
    row = queryset.select_for_update(of=("self",)).filter(**{field: code}).first() if code else None
    return code, row


def _lock_item(barcode: str) -> Item:
    items = Item.objects.select_related("record", "library", "location")
    code, item = _locked(items, "barcode", barcode)
    if item is None:
        raise CirculationError(_("Unknown barcode: %(code)s.") % {"code": code}, "unknown_item")
    return item


def _lock_patron(card_number: str, *, by=None, at: Library | None = None) -> Patron:
    """The reader's card, locked. At a desk (`at`), a reader the desk may not see is refused
    exactly as a card number that does not exist, so scanning numbers lists no one."""
    patrons = Patron.objects.select_related("home_library")
    code, patron = _locked(patrons, "card_number", card_number)
    if patron is None or (at is not None and not patron_visible_at(by, patron, at)):
        raise CirculationError(_("Unknown card number: %(code)s.") % {"code": code}, "unknown_card")
    return patron


def ensure_patron_may_borrow(patron: Patron) -> None:
    if patron.status == Patron.Status.BLOCKED:
        reason = patron.blocked_reason or _("no reason given")
        raise CirculationError(
            _("This card is blocked (%(reason)s).") % {"reason": reason}, "blocked"
        )
    if patron.status == Patron.Status.PENDING:
        raise CirculationError(_("This card is not active yet."), "pending")
    if patron.status == Patron.Status.EXPIRED or patron.is_expired():
        raise CirculationError(
            _("This card expired on %(date)s. Renew it first.")
            % {"date": patron.expires_on.strftime("%d/%m/%Y")},
            "expired",
        )


def rule_for(*, library: Library | None, category: str, item_type: str) -> CirculationRule:
    """The most specific rule: library, then reader category, then item type; blank = any."""
    rule = CirculationRule.objects.matching(
        library=library, category=category, item_type=item_type
    ).first()
    return rule or DEFAULT_RULE


def _open_loan_count(patron: Patron) -> int:
    return Loan.objects.filter(patron=patron, returned_at__isnull=True).count()


# --- check-out -----------------------------------------------------------------------------


@transaction.atomic
def check_out(
    *, item_barcode: str, card_number: str, by, at: Library, now=None
) -> CirculationResult:
    """Lend one item to one reader at the desk of `at`."""
    now = now or timezone.now()
    _ensure_desk(by, at)
    item = _lock_item(item_barcode)
    patron = _lock_patron(card_number, by=by, at=at)
    open_loan = Loan.objects.filter(item=item, returned_at__isnull=True).first()
    if open_loan is not None:
        if open_loan.patron_id == patron.pk:
            return CirculationResult(
                _("Already on loan to this reader, due %(date)s.")
                % {"date": timezone.localtime(open_loan.due_at).strftime("%d/%m/%Y")},
                item=item,
                loan=open_loan,
                patron=patron,
                repeated=True,
            )
        raise CirculationError(
            _("This item is on loan to another reader. Check it in first."), "on_loan"
        )
    ensure_patron_may_borrow(patron)
    if item.location_id != at.pk:
        raise CirculationError(
            _("This item is not at this library (it is at %(library)s). Check it in first.")
            % {"library": item.location.name},
            "elsewhere",
        )
    hold = None
    if item.status == Item.Status.ON_HOLD_SHELF:
        hold = Hold.objects.filter(item=item, status=Hold.Status.READY).first()
        if hold is not None and hold.patron_id != patron.pk:
            raise CirculationError(_("This item is on hold for another reader."), "on_hold")
    elif item.status != Item.Status.AVAILABLE:
        raise CirculationError(
            _("This item is not available (%(status)s).") % {"status": item.get_status_display()},
            "not_available",
        )
    if not reaches(by, patron.home_library) and not visitor_may_borrow(
        library=at, category=patron.category, item_type=item.item_type
    ):
        raise CirculationError(
            _("Readers of other libraries may not borrow this kind of item here."), "visitor"
        )
    rule = rule_for(library=at, category=patron.category, item_type=item.item_type)
    count = _open_loan_count(patron)
    if count >= rule.max_loans:
        raise CirculationError(
            _("Limit of %(limit)s loans reached for this reader.") % {"limit": rule.max_loans},
            "limit",
        )
    loan = Loan.objects.create(
        item=item,
        patron=patron,
        patron_category=patron.category,
        library=at,
        checked_out_at=now,
        due_at=rule.due_from(now),
        checked_out_by=by,
    )
    if hold is None:
        # The reader's own waiting hold on this record is filled by this loan.
        hold = Hold.objects.filter(
            patron=patron, record_id=item.record_id, status=Hold.Status.PENDING
        ).first()
    if hold is not None:
        Hold.objects.filter(pk=hold.pk).update(
            status=Hold.Status.FULFILLED, item=item, closed_at=now
        )
    item.status = Item.Status.ON_LOAN
    item.save(update_fields=["status", "updated_at"])
    return CirculationResult(
        _("Checked out. Due %(date)s.")
        % {"date": timezone.localtime(loan.due_at).strftime("%d/%m/%Y")},
        item=item,
        loan=loan,
        patron=patron,
    )


# --- check-in and routing ------------------------------------------------------------------


def _hold_shelf_reader(hold: Hold, at: Library, by) -> str:
    """Who the slip names: the reader where this desk may see them, else only their library."""
    patron = hold.patron
    if by is not None and patron_visible_at(by, patron, at):
        return _("%(name)s (%(card)s)") % {"name": patron.full_name, "card": patron.card_number}
    return _("a reader of %(library)s") % {"library": patron.home_library.code}


def _capture_for_hold(item: Item, hold: Hold, at: Library, by, now) -> str:
    """Put the item on this library's hold shelf for the hold and tell the reader."""
    hold.item = item
    hold.status = Hold.Status.READY
    hold.ready_at = now
    hold.expires_on = timezone.localdate(now) + datetime.timedelta(days=HOLD_SHELF_DAYS)
    hold.save(update_fields=["item", "status", "ready_at", "expires_on"])
    item.status = Item.Status.ON_HOLD_SHELF
    item.location = at
    item.save(update_fields=["status", "location", "updated_at"])
    notify_hold_available(hold, library=at)
    return _("Put on the hold shelf for %(reader)s.") % {"reader": _hold_shelf_reader(hold, at, by)}


def _send(item: Item, to: Library, at: Library, by, now, *, reason, hold=None, ill=None):
    transfer = Transfer.objects.create(
        item=item,
        from_library=at,
        to_library=to,
        reason=reason,
        hold=hold,
        ill_request=ill,
        sent_at=now,
        sent_by=by,
    )
    item.status = Item.Status.IN_TRANSIT
    item.location = at
    item.save(update_fields=["status", "location", "updated_at"])
    return transfer


def _route(item: Item, at: Library, by, now) -> CirculationResult:
    """Where an item goes once it is in hand at `at`: hold shelf, transit, or the shelf."""
    # One query: the oldest hold waiting here first, else the oldest waiting anywhere.
    first = (
        Hold.objects.queue()
        .filter(record_id=item.record_id)
        .select_related("patron__home_library", "pickup_library")
        .annotate(
            elsewhere=Case(
                When(pickup_library=at, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("elsewhere", "created_at", "pk")
        .first()
    )
    if first is not None and first.pickup_library_id == at.pk:
        return CirculationResult(_capture_for_hold(item, first, at, by, now), item=item, hold=first)
    if item.library_id != at.pk:
        transfer = _send(item, item.library, at, by, now, reason=Transfer.Reason.RETURN)
        return CirculationResult(
            _("Send to %(library)s (in transit).") % {"library": item.library.name},
            item=item,
            transfer=transfer,
        )
    if first is not None:
        first.item = item
        first.status = Hold.Status.IN_TRANSIT
        first.save(update_fields=["item", "status"])
        transfer = _send(
            item, first.pickup_library, at, by, now, reason=Transfer.Reason.HOLD, hold=first
        )
        return CirculationResult(
            _("Send to %(library)s for a hold (in transit).")
            % {"library": first.pickup_library.name},
            item=item,
            hold=first,
            transfer=transfer,
        )
    item.status = Item.Status.AVAILABLE
    item.location = at
    item.save(update_fields=["status", "location", "updated_at"])
    return CirculationResult(_("Checked in. Put it back on the shelf."), item=item)


def _receive(item: Item, transfer: Transfer, at: Library, by, now) -> CirculationResult:
    transfer.received_at = now
    transfer.received_by = by
    transfer.save(update_fields=["received_at", "received_by"])
    item.location = at
    if transfer.reason == Transfer.Reason.HOLD and transfer.hold_id:
        hold = Hold.objects.select_related("patron__home_library").get(pk=transfer.hold_id)
        if hold.status == Hold.Status.IN_TRANSIT:
            return CirculationResult(
                _capture_for_hold(item, hold, at, by, now), item=item, hold=hold, transfer=transfer
            )
    if transfer.reason == Transfer.Reason.ILL and transfer.ill_request_id:
        ill = InterLibraryLoan.objects.get(pk=transfer.ill_request_id)
        if ill.status == InterLibraryLoan.Status.SHIPPED:
            ill.status = InterLibraryLoan.Status.ARRIVED
            ill.save(update_fields=["status", "updated_at"])
            if ill.hold_id:
                hold = Hold.objects.select_related("patron__home_library").get(pk=ill.hold_id)
                return CirculationResult(
                    _capture_for_hold(item, hold, at, by, now),
                    item=item,
                    hold=hold,
                    transfer=transfer,
                )
            item.status = Item.Status.AVAILABLE
            item.save(update_fields=["status", "location", "updated_at"])
            return CirculationResult(
                _("Inter-library loan received. Ready to lend."), item=item, transfer=transfer
            )
        if ill.status == InterLibraryLoan.Status.RETURNING:
            ill.status = InterLibraryLoan.Status.COMPLETED
            ill.save(update_fields=["status", "updated_at"])
    result = _route(item, at, by, now)
    result.transfer = result.transfer or transfer
    result.message = _("Transfer received. %(next)s") % {"next": result.message}
    return result


@transaction.atomic
def check_in(*, item_barcode: str, by, at: Library, now=None) -> CirculationResult:
    """Take an item back at any library of the network and send it where it is needed."""
    now = now or timezone.now()
    _ensure_desk(by, at)
    item = _lock_item(item_barcode)
    loan = Loan.objects.filter(item=item, returned_at__isnull=True).select_related("patron").first()
    open_transfer = Transfer.objects.open().filter(item=item).first()
    if loan is None:
        if open_transfer is not None:
            if open_transfer.to_library_id == at.pk:
                return _receive(item, open_transfer, at, by, now)
            return CirculationResult(
                _("Already in transit to %(library)s.")
                % {"library": open_transfer.to_library.name},
                item=item,
                transfer=open_transfer,
                repeated=True,
            )
        if item.status == Item.Status.ON_HOLD_SHELF:
            return CirculationResult(_("Already on the hold shelf."), item=item, repeated=True)
        if item.status == Item.Status.AVAILABLE and item.location_id == at.pk:
            return CirculationResult(
                _("This item is not on loan; nothing to do."), item=item, repeated=True
            )
        if item.status == Item.Status.WITHDRAWN:
            raise CirculationError(_("This item has been withdrawn."), "withdrawn")
        # Found again (missing, lost, in process) or sitting at another library: route it.
        return _route(item, at, by, now)
    loan.returned_at = now
    loan.returned_library = at
    loan.checked_in_by = by
    loan.save(update_fields=["returned_at", "returned_library", "checked_in_by"])
    ill = InterLibraryLoan.objects.filter(item=item, status=InterLibraryLoan.Status.ARRIVED).first()
    if ill is not None and at.pk == ill.requesting_library_id:
        ill.status = InterLibraryLoan.Status.RETURNING
        ill.save(update_fields=["status", "updated_at"])
        transfer = _send(item, item.library, at, by, now, reason=Transfer.Reason.ILL, ill=ill)
        result = CirculationResult(
            _("Inter-library loan: send it back to %(library)s.") % {"library": item.library.name},
            item=item,
            transfer=transfer,
        )
    else:
        result = _route(item, at, by, now)
    result.loan = loan
    result.patron = loan.patron
    if loan.due_at < now:
        result.notices.append(_("This item was returned late."))
    return result


@transaction.atomic
def receive_transfer(*, item_barcode: str, by, at: Library, now=None) -> CirculationResult:
    """Scan an item arriving from another library."""
    now = now or timezone.now()
    _ensure_desk(by, at)
    item = _lock_item(item_barcode)
    transfer = Transfer.objects.open().filter(item=item).first()
    if transfer is None:
        return CirculationResult(_("This item is not in transit."), item=item, repeated=True)
    if transfer.to_library_id != at.pk:
        raise CirculationError(
            _("This item is in transit to %(library)s, not here.")
            % {"library": transfer.to_library.name},
            "wrong_library",
        )
    return _receive(item, transfer, at, by, now)


# --- renewal -------------------------------------------------------------------------------


@transaction.atomic
def renew(*, item_barcode: str, by, at: Library | None = None, now=None) -> CirculationResult:
    """Extend a loan. Staff renew at a desk (`at`); a reader renews their own loan (no `at`)."""
    now = now or timezone.now()
    if at is not None:
        _ensure_desk(by, at)
    item = _lock_item(item_barcode)
    loan = (
        Loan.objects.filter(item=item, returned_at__isnull=True)
        .select_related("patron", "library")
        .first()
    )
    if loan is None:
        raise CirculationError(_("This item is not on loan."), "not_on_loan")
    patron = loan.patron
    if at is None and (patron is None or patron.user_id is None or patron.user_id != by.pk):
        raise CirculationError(_("This is not one of your loans."), "not_yours")
    ensure_patron_may_borrow(patron)
    rule = rule_for(library=loan.library, category=patron.category, item_type=item.item_type)
    if loan.renewals_count >= rule.renewals:
        raise CirculationError(
            _("No renewals left (%(count)s allowed).") % {"count": rule.renewals}, "no_renewals"
        )
    if Hold.objects.queue().filter(record_id=item.record_id).exclude(patron=patron).exists():
        raise CirculationError(_("Another reader is waiting for this item."), "on_hold")
    loan.due_at = max(rule.due_from(now), loan.due_at)
    loan.renewals_count += 1
    loan.overdue_notice_sent_on = None
    loan.save(update_fields=["due_at", "renewals_count", "overdue_notice_sent_on"])
    return CirculationResult(
        _("Renewed. Now due %(date)s.")
        % {"date": timezone.localtime(loan.due_at).strftime("%d/%m/%Y")},
        item=item,
        loan=loan,
        patron=patron,
    )


# --- holds ---------------------------------------------------------------------------------


def _may_act_for(by, patron: Patron) -> bool:
    return (patron.user_id is not None and patron.user_id == getattr(by, "pk", None)) or reaches(
        by, patron.home_library
    )


@transaction.atomic
def place_hold(
    *, record: Record, card_number: str, pickup_library: Library, by, now=None
) -> CirculationResult:
    """A reader asks for the next copy of a record, to collect at `pickup_library`."""
    now = now or timezone.now()
    patron = _lock_patron(card_number)
    if not _may_act_for(by, patron):
        raise CirculationError(_("You may not place holds for this reader."), "not_allowed")
    ensure_patron_may_borrow(patron)
    if not pickup_library.is_active:
        raise CirculationError(_("This library does not take holds."), "pickup")
    if not reader_may_borrow_at(patron, pickup_library):
        raise CirculationError(
            _("This reader cannot collect holds at %(library)s. Choose their own library.")
            % {"library": pickup_library.name},
            "pickup",
        )
    items = Item.objects.filter(record=record).exclude(
        status__in=[Item.Status.WITHDRAWN, Item.Status.LOST, Item.Status.MISSING]
    )
    item_type = items.values_list("item_type", flat=True).first()
    if item_type is None:
        raise CirculationError(_("The network has no copy of this title to lend."), "no_items")
    rule = rule_for(library=pickup_library, category=patron.category, item_type=item_type)
    if not rule.holds_allowed:
        raise CirculationError(_("Holds are not allowed for this reader and item."), "no_holds")
    if Loan.objects.filter(patron=patron, item__record=record, returned_at__isnull=True).exists():
        raise CirculationError(_("This reader already has this title on loan."), "has_loan")
    if Hold.objects.active().filter(patron=patron, record=record).exists():
        raise CirculationError(_("This reader already has a hold on this title."), "duplicate")
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                record=record, patron=patron, pickup_library=pickup_library, created_at=now
            )
    except IntegrityError:
        raise CirculationError(_("This reader already has a hold on this title."), "duplicate")
    position = Hold.objects.queue().filter(record=record, created_at__lte=hold.created_at).count()
    return CirculationResult(
        _("Hold placed. Position %(position)s in the queue.") % {"position": position},
        hold=hold,
        patron=patron,
    )


@transaction.atomic
def cancel_hold(*, hold_id: int, by, now=None) -> CirculationResult:
    """Cancel a hold. A copy already set aside goes to the next reader or back home."""
    now = now or timezone.now()
    hold = (
        Hold.objects.select_related("patron__home_library", "pickup_library")
        .filter(pk=hold_id)
        .first()
    )
    if hold is None or not (_may_act_for(by, hold.patron) or reaches(by, hold.pickup_library)):
        raise CirculationError(_("Unknown hold."), "unknown_hold")
    if hold.item_id:
        item = Item.objects.select_for_update(of=("self",)).get(pk=hold.item_id)
        hold.refresh_from_db()
    if hold.status not in Hold.ACTIVE:
        return CirculationResult(_("This hold is already closed."), hold=hold, repeated=True)
    was_ready = hold.status == Hold.Status.READY
    before = {"status": hold.status}
    hold.status = Hold.Status.CANCELLED
    hold.closed_at = now
    hold.save(update_fields=["status", "closed_at"])
    if hold.patron.user_id is None or hold.patron.user_id != getattr(by, "pk", None):
        # Staff cancelled a reader's hold: logged (the reader's own cancellations are not).
        log_reader_change(
            hold,
            "libraries.hold.cancel",
            by=by,
            before=before,
            after={"status": hold.status},
            library=hold.pickup_library,
        )
    result = CirculationResult(_("Hold cancelled."), hold=hold, patron=hold.patron)
    if was_ready:
        routed = _route(item, hold.pickup_library, by, now)
        result.item = item
        result.notices.append(routed.message)
    return result


@transaction.atomic
def expire_holds(*, today=None) -> int:
    """Holds not collected in time: cancel them and pass the copy on."""
    today = today or timezone.localdate()
    count = 0
    for hold_id in Hold.objects.filter(status=Hold.Status.READY, expires_on__lt=today).values_list(
        "pk", flat=True
    ):
        hold = Hold.objects.select_related("pickup_library").get(pk=hold_id)
        item = Item.objects.select_for_update(of=("self",)).get(pk=hold.item_id)
        hold.status = Hold.Status.EXPIRED
        hold.closed_at = timezone.now()
        hold.save(update_fields=["status", "closed_at"])
        _route(item, hold.pickup_library, None, timezone.now())
        count += 1
    return count


# --- inter-library loans -------------------------------------------------------------------


@transaction.atomic
def request_ill(
    *, item_barcode: str, by, at: Library, card_number: str = "", note: str = ""
) -> InterLibraryLoan:
    """`at` asks the item's owning library to lend it; optionally for one reader."""
    _ensure_desk(by, at)
    item = _lock_item(item_barcode)
    if item.library_id == at.pk:
        raise CirculationError(_("This item already belongs to your library."), "own_item")
    if InterLibraryLoan.objects.filter(item=item, status__in=InterLibraryLoan.OPEN).exists():
        raise CirculationError(_("This item is already requested by a library."), "duplicate")
    patron = None
    if card_number:
        patron = _lock_patron(card_number, by=by, at=at)
        ensure_patron_may_borrow(patron)
    ill = InterLibraryLoan.objects.create(
        item=item,
        requesting_library=at,
        lending_library=item.library,
        patron=patron,
        note=note,
        requested_by=by,
    )
    return ill


@transaction.atomic
def accept_ill(*, ill_id: int, by, now=None) -> InterLibraryLoan:
    """The lending library agrees and sends the item: it goes in transit."""
    now = now or timezone.now()
    ill = InterLibraryLoan.objects.select_related("lending_library", "requesting_library").get(
        pk=ill_id
    )
    _ensure_desk(by, ill.lending_library)
    item = Item.objects.select_for_update(of=("self",)).get(pk=ill.item_id)
    ill.refresh_from_db()
    if ill.status != InterLibraryLoan.Status.REQUESTED:
        raise CirculationError(_("This request has already been handled."), "handled")
    if item.status != Item.Status.AVAILABLE or item.location_id != ill.lending_library_id:
        raise CirculationError(
            _("This item is not available (%(status)s).") % {"status": item.get_status_display()},
            "not_available",
        )
    if ill.patron_id:
        hold = Hold.objects.create(
            record_id=item.record_id,
            patron_id=ill.patron_id,
            pickup_library=ill.requesting_library,
            item=item,
            status=Hold.Status.IN_TRANSIT,
            created_at=now,
        )
        ill.hold = hold
    _send(
        item,
        ill.requesting_library,
        ill.lending_library,
        by,
        now,
        reason=Transfer.Reason.ILL,
        ill=ill,
    )
    ill.status = InterLibraryLoan.Status.SHIPPED
    ill.save(update_fields=["status", "hold", "updated_at"])
    return ill


@transaction.atomic
def reject_ill(*, ill_id: int, by, reason: str) -> InterLibraryLoan:
    ill = InterLibraryLoan.objects.select_for_update().get(pk=ill_id)
    _ensure_desk(by, ill.lending_library)
    if ill.status != InterLibraryLoan.Status.REQUESTED:
        raise CirculationError(_("This request has already been handled."), "handled")
    ill.status = InterLibraryLoan.Status.REJECTED
    ill.reason = reason
    ill.save(update_fields=["status", "reason", "updated_at"])
    return ill


# --- reading -------------------------------------------------------------------------------


def overdue_loans(library: Library, now=None):
    """Open overdue loans lent at `library`, oldest due first."""
    return (
        Loan.objects.overdue(now)
        .filter(library=library)
        .select_related("item__record", "patron__home_library")
        .order_by("due_at")
    )
