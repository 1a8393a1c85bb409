import datetime
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from libraries.circulation import services as circulation
from libraries.circulation.services import CirculationError, check_in, check_out, renew
from libraries.models import CirculationRule, Hold, InterLibraryLoan, Item, Loan, Patron, Transfer
from tests.factories import UserFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.circulation.factories import PatronFactory, hold, lend

pytestmark = pytest.mark.django_db


def refusal(code, func, **kwargs):
    with pytest.raises(CirculationError) as error:
        func(**kwargs)
    assert error.value.code == code
    return error.value.message


# --- rules ---------------------------------------------------------------------------------


def test_most_specific_rule_wins(network):
    CirculationRule.objects.create(loan_days=10, max_loans=9)
    CirculationRule.objects.create(patron_category="student", loan_days=11, max_loans=3)
    CirculationRule.objects.create(library=network.a, loan_days=12)
    CirculationRule.objects.create(library=network.a, patron_category="student", loan_days=13)
    CirculationRule.objects.create(
        library=network.a, patron_category="student", item_type="textbook", loan_days=90
    )
    rule_for = circulation.rule_for
    assert rule_for(library=network.a, category="student", item_type="textbook").loan_days == 90
    assert rule_for(library=network.a, category="student", item_type="book").loan_days == 13
    assert rule_for(library=network.a, category="adult", item_type="book").loan_days == 12
    assert rule_for(library=network.b, category="student", item_type="book").loan_days == 11
    assert rule_for(library=network.b, category="adult", item_type="book").loan_days == 10


def test_without_any_rule_the_built_in_default_applies(network):
    rule = circulation.rule_for(library=network.a, category="adult", item_type="book")
    assert (rule.loan_days, rule.max_loans, rule.renewals) == (14, 3, 1)


def test_rule_combination_is_unique_with_blanks_equal(network):
    CirculationRule.objects.create(patron_category="student")
    with pytest.raises(IntegrityError), transaction.atomic():
        CirculationRule.objects.create(patron_category="student")
    CirculationRule.objects.create(library=network.a, patron_category="student")
    with pytest.raises(IntegrityError), transaction.atomic():
        CirculationRule.objects.create(library=network.a, patron_category="student")


# --- check-out -----------------------------------------------------------------------------


def test_check_out_lends_with_rule_due_date(network):
    CirculationRule.objects.create(library=network.a, loan_days=7)
    item = ItemFactory(library=network.a)
    patron = PatronFactory(home_library=network.a)
    now = timezone.now()
    result = check_out(
        item_barcode=item.barcode.lower(),
        card_number=patron.card_number,
        by=network.librarian_a,
        at=network.a,
        now=now,
    )
    loan = Loan.objects.get()
    assert result.loan == loan and not result.repeated
    assert loan.patron == patron and loan.library == network.a
    assert timezone.localtime(loan.due_at).date() == timezone.localtime(
        now
    ).date() + datetime.timedelta(days=7)
    item.refresh_from_db()
    assert item.status == Item.Status.ON_LOAN


def test_repeated_scan_returns_the_same_loan(network):
    item = ItemFactory(library=network.a)
    patron = PatronFactory(home_library=network.a)
    args = {
        "item_barcode": item.barcode,
        "card_number": patron.card_number,
        "by": network.librarian_a,
        "at": network.a,
    }
    first = check_out(**args)
    second = check_out(**args)
    assert second.repeated and second.loan == first.loan
    assert "Already on loan to this reader" in second.message
    assert Loan.objects.count() == 1


def test_refusals_at_check_out(network):
    CirculationRule.objects.create(max_loans=1)
    item, other = ItemFactory(library=network.a), ItemFactory(library=network.a)
    patron = PatronFactory(home_library=network.a)
    kw = {"by": network.librarian_a, "at": network.a}
    assert "Unknown barcode: NOPE" in refusal(
        "unknown_item", check_out, item_barcode="nope", card_number=patron.card_number, **kw
    )
    assert "Unknown card number" in refusal(
        "unknown_card", check_out, item_barcode=item.barcode, card_number="X-1", **kw
    )
    check_out(item_barcode=item.barcode, card_number=patron.card_number, **kw)
    assert (
        refusal(
            "limit", check_out, item_barcode=other.barcode, card_number=patron.card_number, **kw
        )
        == "Limit of 1 loans reached for this reader."
    )
    someone = PatronFactory(home_library=network.a)
    refusal("on_loan", check_out, item_barcode=item.barcode, card_number=someone.card_number, **kw)
    expired = PatronFactory(
        home_library=network.a, expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert "expired" in refusal(
        "expired", check_out, item_barcode=other.barcode, card_number=expired.card_number, **kw
    )
    blocked = PatronFactory(
        home_library=network.a, status=Patron.Status.BLOCKED, blocked_reason="lost books"
    )
    assert "lost books" in refusal(
        "blocked", check_out, item_barcode=other.barcode, card_number=blocked.card_number, **kw
    )
    pending = PatronFactory(home_library=network.a, status=Patron.Status.PENDING)
    refusal("pending", check_out, item_barcode=other.barcode, card_number=pending.card_number, **kw)
    damaged = ItemFactory(library=network.a, status=Item.Status.DAMAGED)
    assert "Damaged" in refusal(
        "not_available",
        check_out,
        item_barcode=damaged.barcode,
        card_number=someone.card_number,
        **kw,
    )
    at_b = ItemFactory(library=network.b)
    refusal(
        "elsewhere", check_out, item_barcode=at_b.barcode, card_number=someone.card_number, **kw
    )
    assert Loan.objects.count() == 1


def test_librarian_cannot_work_at_another_school(network):
    item = ItemFactory(library=network.b)
    patron = PatronFactory(home_library=network.b)
    message = refusal(
        "not_allowed",
        check_out,
        item_barcode=item.barcode,
        card_number=patron.card_number,
        by=network.librarian_a,
        at=network.b,
    )
    assert message == "You are not allowed to work at this library."
    refusal("not_allowed", check_in, item_barcode=item.barcode, by=UserFactory(), at=network.b)
    assert not Loan.objects.exists()


def test_item_on_hold_shelf_is_lent_only_to_its_reader(network):
    item = ItemFactory(library=network.a)
    waiting, other = PatronFactory(home_library=network.a), PatronFactory(home_library=network.a)
    kw = {"by": network.librarian_a, "at": network.a}
    lend(item, other, by=network.librarian_a)
    hold(item, waiting, by=network.librarian_a)
    result = check_in(item_barcode=item.barcode, **kw)
    assert "hold shelf" in result.message
    item.refresh_from_db()
    assert item.status == Item.Status.ON_HOLD_SHELF
    assert "on hold for another reader" in refusal(
        "on_hold", check_out, item_barcode=item.barcode, card_number=other.card_number, **kw
    )
    lend(item, waiting, by=network.librarian_a)
    assert Hold.objects.get().status == Hold.Status.FULFILLED


# --- check-in, transfers -------------------------------------------------------------------


def test_check_in_of_available_item_is_harmless(network):
    item = ItemFactory(library=network.a)
    result = check_in(item_barcode=item.barcode, by=network.librarian_a, at=network.a)
    assert result.repeated and result.message == "This item is not on loan; nothing to do."
    assert not Transfer.objects.exists() and not Loan.objects.exists()


def test_return_elsewhere_goes_in_transit_home_and_is_received_by_a_scan(network):
    item = ItemFactory(library=network.a)
    lend(item, PatronFactory(home_library=network.a), by=network.librarian_a)
    result = check_in(item_barcode=item.barcode, by=network.librarian_b, at=network.b)
    assert result.message == "Send to Thư viện THCS A (in transit)."
    transfer = Transfer.objects.get()
    assert (transfer.from_library, transfer.to_library, transfer.reason) == (
        network.b,
        network.a,
        "return",
    )
    item.refresh_from_db()
    assert item.status == Item.Status.IN_TRANSIT and item.location == network.b
    assert Loan.objects.get().returned_library == network.b
    again = check_in(item_barcode=item.barcode, by=network.librarian_b, at=network.b)
    assert again.repeated and Transfer.objects.count() == 1
    refusal(
        "wrong_library",
        circulation.receive_transfer,
        item_barcode=item.barcode,
        by=network.admin,
        at=network.b,
    )
    received = circulation.receive_transfer(
        item_barcode=item.barcode, by=network.librarian_a, at=network.a
    )
    assert received.message.startswith("Transfer received.")
    transfer.refresh_from_db()
    item.refresh_from_db()
    assert transfer.received_by == network.librarian_a
    assert (item.status, item.location) == (Item.Status.AVAILABLE, network.a)


@pytest.fixture
def lent_with_a_hold_at_b(network):
    """A copy of school A lent at A, its title held for a reader who collects at school B."""
    item = ItemFactory(library=network.a)
    lend(item, PatronFactory(home_library=network.a), by=network.librarian_a)
    hold(item, PatronFactory(home_library=network.b), by=network.librarian_b, pickup=network.b)
    return item


def test_return_elsewhere_with_a_reader_waiting_there_goes_on_its_hold_shelf(
    network, lent_with_a_hold_at_b
):
    item = lent_with_a_hold_at_b
    with_capture = check_in(item_barcode=item.barcode, by=network.librarian_b, at=network.b)
    assert "hold shelf" in with_capture.message
    item.refresh_from_db()
    assert (item.status, item.location) == (Item.Status.ON_HOLD_SHELF, network.b)
    assert not Transfer.objects.exists()


@pytest.fixture
def queue(network):
    """A copy of school A on loan, its title then held by two readers of A a minute apart."""
    item = ItemFactory(library=network.a)
    lend(item, PatronFactory(home_library=network.a), by=network.librarian_a)
    first, second = PatronFactory(home_library=network.a), PatronFactory(home_library=network.a)
    start = timezone.now()
    placed = [
        hold(item, patron, by=network.librarian_a, now=start + datetime.timedelta(minutes=n))
        for n, patron in enumerate([first, second])
    ]
    return SimpleNamespace(item=item, first=first, second=second, placed=placed)


def test_holds_queue_is_first_come_first_served(network, queue):
    item, first, second = queue.item, queue.first, queue.second
    r1, r2 = queue.placed
    assert "Position 1" in r1.message and "Position 2" in r2.message
    check_in(item_barcode=item.barcode, by=network.librarian_a, at=network.a)
    assert Hold.objects.get(patron=first).status == Hold.Status.READY
    assert Hold.objects.get(patron=second).status == Hold.Status.PENDING
    assert len(mail.outbox) == 0  # sent on commit; the test transaction never commits
    # The first reader gives up: the copy moves straight to the second one.
    cancelled = circulation.cancel_hold(hold_id=r1.hold.pk, by=network.librarian_a)
    assert "hold shelf" in cancelled.notices[0]
    assert Hold.objects.get(patron=second).status == Hold.Status.READY
    assert Hold.objects.get(patron=second).item == item


def test_hold_at_another_library_sends_the_returned_copy_there(network, lent_with_a_hold_at_b):
    item = lent_with_a_hold_at_b
    result = check_in(item_barcode=item.barcode, by=network.librarian_a, at=network.a)
    assert "for a hold" in result.message
    hold = Hold.objects.get()
    assert hold.status == Hold.Status.IN_TRANSIT and hold.item == item
    received = check_in(item_barcode=item.barcode, by=network.librarian_b, at=network.b)
    assert "hold shelf" in received.message
    hold.refresh_from_db()
    assert hold.status == Hold.Status.READY


def test_overdue_return_is_flagged(network):
    item = ItemFactory(library=network.a)
    patron = PatronFactory(home_library=network.a)
    lend(item, patron, by=network.librarian_a, now=timezone.now() - datetime.timedelta(days=40))
    assert list(circulation.overdue_loans(network.a)) == [Loan.objects.get()]
    assert list(circulation.overdue_loans(network.b)) == []
    result = check_in(item_barcode=item.barcode, by=network.librarian_a, at=network.a)
    assert result.notices == ["This item was returned late."]


# --- renewals and holds --------------------------------------------------------------------


def test_renew_until_the_limit(network):
    CirculationRule.objects.create(renewals=1, loan_days=14)
    item = ItemFactory(library=network.a)
    reader = UserFactory()
    patron = PatronFactory(home_library=network.a, user=reader)
    lend(item, patron, by=network.librarian_a, now=timezone.now() - datetime.timedelta(days=10))
    old_due = Loan.objects.get().due_at
    result = renew(item_barcode=item.barcode, by=reader)
    loan = Loan.objects.get()
    assert loan.renewals_count == 1 and loan.due_at > old_due
    assert result.message.startswith("Renewed.")
    assert (
        refusal("no_renewals", renew, item_barcode=item.barcode, by=reader)
        == "No renewals left (1 allowed)."
    )
    refusal("not_yours", renew, item_barcode=item.barcode, by=UserFactory())
    refusal("not_on_loan", renew, item_barcode=ItemFactory(library=network.a).barcode, by=reader)


def test_renew_refused_when_another_reader_waits(network):
    item = ItemFactory(library=network.a)
    patron, other = PatronFactory(home_library=network.a), PatronFactory(home_library=network.a)
    kw = {"by": network.librarian_a, "at": network.a}
    lend(item, patron, **kw)
    hold(item, other, by=network.librarian_a)
    assert (
        refusal("on_hold", renew, item_barcode=item.barcode, **kw)
        == "Another reader is waiting for this item."
    )


def test_place_hold_refusals(network):
    CirculationRule.objects.create(patron_category="child", holds_allowed=False)
    item = ItemFactory(library=network.a)
    patron = PatronFactory(home_library=network.a)
    child = PatronFactory(home_library=network.a, category="child")
    kw = {"pickup_library": network.a, "by": network.librarian_a}
    circulation.place_hold(record=item.record, card_number=patron.card_number, **kw)
    refusal(
        "duplicate",
        circulation.place_hold,
        record=item.record,
        card_number=patron.card_number,
        **kw,
    )
    refusal(
        "no_holds", circulation.place_hold, record=item.record, card_number=child.card_number, **kw
    )
    refusal(
        "no_items",
        circulation.place_hold,
        record=RecordFactory(),
        card_number=patron.card_number,
        **kw,
    )
    other_school = PatronFactory(home_library=network.b)
    refusal(
        "not_allowed",
        circulation.place_hold,
        record=item.record,
        card_number=other_school.card_number,
        **kw,
    )
    assert Hold.objects.count() == 1


def test_constraints_hold_one_capture_and_one_open_transfer(network):
    item = ItemFactory(library=network.a)
    p1, p2 = PatronFactory(home_library=network.a), PatronFactory(home_library=network.a)
    Hold.objects.create(
        record=item.record, patron=p1, pickup_library=network.a, item=item, status="ready"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Hold.objects.create(
            record=item.record, patron=p2, pickup_library=network.a, item=item, status="in_transit"
        )
    Transfer.objects.create(
        item=item, from_library=network.a, to_library=network.b, reason="return"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            item=item, from_library=network.b, to_library=network.a, reason="return"
        )
    Loan.objects.create(
        item=item, patron=p1, patron_category="adult", library=network.a, due_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(
            item=item, patron=p2, patron_category="adult", library=network.a, due_at=timezone.now()
        )


# --- inter-library loans -------------------------------------------------------------------


def test_inter_library_loan_round_trip(network):
    item = ItemFactory(library=network.a)
    reader = PatronFactory(home_library=network.b)
    ill = circulation.request_ill(
        item_barcode=item.barcode,
        by=network.librarian_b,
        at=network.b,
        card_number=reader.card_number,
    )
    assert (ill.lending_library, ill.status) == (network.a, InterLibraryLoan.Status.REQUESTED)
    refusal(
        "duplicate",
        circulation.request_ill,
        item_barcode=item.barcode,
        by=network.librarian_b,
        at=network.b,
    )
    refusal("not_allowed", circulation.accept_ill, ill_id=ill.pk, by=network.librarian_b)
    circulation.accept_ill(ill_id=ill.pk, by=network.librarian_a)
    item.refresh_from_db()
    assert item.status == Item.Status.IN_TRANSIT
    assert Transfer.objects.get().reason == "ill"
    arrived = check_in(item_barcode=item.barcode, by=network.librarian_b, at=network.b)
    assert "hold shelf" in arrived.message
    ill.refresh_from_db()
    assert ill.status == InterLibraryLoan.Status.ARRIVED
    lend(item, reader, by=network.librarian_b, at=network.b)
    back = check_in(item_barcode=item.barcode, by=network.librarian_b, at=network.b)
    assert back.message == "Inter-library loan: send it back to Thư viện THCS A."
    check_in(item_barcode=item.barcode, by=network.librarian_a, at=network.a)
    ill.refresh_from_db()
    item.refresh_from_db()
    assert ill.status == InterLibraryLoan.Status.COMPLETED
    assert (item.status, item.location) == (Item.Status.AVAILABLE, network.a)


def test_inter_library_loan_can_be_refused(network):
    item = ItemFactory(library=network.a)
    ill = circulation.request_ill(item_barcode=item.barcode, by=network.librarian_b, at=network.b)
    circulation.reject_ill(ill_id=ill.pk, by=network.librarian_a, reason="Sách đang sửa")
    ill.refresh_from_db()
    assert (ill.status, ill.reason) == ("rejected", "Sách đang sửa")
    refusal(
        "own_item",
        circulation.request_ill,
        item_barcode=item.barcode,
        by=network.librarian_a,
        at=network.a,
    )


def test_refusals_speak_vietnamese_by_default(network):
    from django.utils import translation

    patron = PatronFactory(home_library=network.a)
    with translation.override("vi"):
        message = refusal(
            "unknown_item",
            check_out,
            item_barcode="abc1",
            card_number=patron.card_number,
            by=network.librarian_a,
            at=network.a,
        )
    assert message == "Không tìm thấy mã vạch: ABC1."


def test_uncollected_holds_expire_and_the_copy_moves_on(network, queue):
    import io

    from django.core.management import call_command

    item, first, second = queue.item, queue.first, queue.second
    check_in(item_barcode=item.barcode, by=network.librarian_a, at=network.a)
    Hold.objects.filter(patron=first).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    call_command("expire_holds", stdout=io.StringIO())
    assert Hold.objects.get(patron=first).status == Hold.Status.EXPIRED
    assert Hold.objects.get(patron=second).status == Hold.Status.READY
    item.refresh_from_db()
    assert item.status == Item.Status.ON_HOLD_SHELF


def test_query_count_does_not_grow_with_the_readers_loans(network):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    CirculationRule.objects.create(max_loans=50)
    patron = PatronFactory(home_library=network.a)
    items = [ItemFactory(library=network.a) for _ in range(8)]
    kw = {"by": network.librarian_a, "at": network.a}
    counts = []
    for item in items:
        with CaptureQueriesContext(connection) as out:
            check_out(item_barcode=item.barcode, card_number=patron.card_number, **kw)
        counts.append(len(out.captured_queries))
    # The first action also loads the librarian's memberships (once per request).
    assert counts[0] == counts[1] + 1
    assert len(set(counts[1:])) == 1
    with CaptureQueriesContext(connection) as back:
        check_in(item_barcode=items[0].barcode, **kw)
    with CaptureQueriesContext(connection) as back_last:
        check_in(item_barcode=items[-1].barcode, **kw)
    assert len(back.captured_queries) == len(back_last.captured_queries)
