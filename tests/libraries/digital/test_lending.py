"""Lending licences: borrow, return early, automatic return, the waiting list (holds) with
48 hours to borrow a free licence, limits from the circulation rules, anonymisation."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from libraries.access import may_read_digital
from libraries.digital.services import (
    DigitalError,
    anonymise_child_digital_loans,
    availability,
    borrow,
    cancel_wait,
    expire,
    return_loan,
    wait_for,
)
from libraries.models import CirculationRule, DigitalFile, DigitalLoan, Hold, Patron
from libraries.models.digital import DIGITAL_ITEM_TYPE
from tests.factories import UserFactory
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of

NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0))


def later(**delta):
    return NOW + datetime.timedelta(**delta)


@pytest.fixture
def book(tree):
    CirculationRule.objects.create(item_type=DIGITAL_ITEM_TYPE, loan_days=7, max_loans=2)
    return add_book(tree.own, books.CHILDREN, licences=1)


def test_a_reader_borrows_a_licence_for_the_days_of_the_digital_rule(tree, book):
    reader = reader_of(tree.child)
    result = borrow(file=book, by=reader.user, now=NOW)
    loan = result.loan
    assert (loan.file, loan.patron, loan.slot, loan.library) == (book, reader, 1, tree.own)
    assert loan.patron_category == "adult"
    assert timezone.localtime(loan.due_at) == timezone.make_aware(
        datetime.datetime(2026, 3, 9, 23, 59)
    )
    assert result.message == "Borrowed until 23:59 09/03/2026. Happy reading!"
    assert may_read_digital(reader.user, book, now=later(days=1))
    # A second click is harmless: the same loan, no second licence.
    again = borrow(file=book, by=reader.user, now=later(minutes=1))
    assert again.repeated and again.loan == loan
    assert DigitalLoan.objects.count() == 1


def test_never_more_loans_than_licences(tree, book):
    first = reader_of(tree.own)
    borrow(file=book, by=first.user, now=NOW)
    second = reader_of(tree.own)
    with pytest.raises(DigitalError) as refused:
        borrow(file=book, by=second.user, now=NOW)
    assert refused.value.code == "no_licence"
    assert refused.value.message == (
        "All 1 licences are on loan. Join the waiting list to be told by email."
    )
    assert DigitalLoan.objects.open().count() == 1
    assert not may_read_digital(second.user, book, now=NOW)


def test_the_rule_limits_how_many_e_books_a_reader_has(tree, book):
    other = add_book(tree.own, books.MOBY, licences=3)
    third = add_book(tree.own, books.QUIZ, licences=3)
    reader = reader_of(tree.own)
    borrow(file=book, by=reader.user, now=NOW)
    borrow(file=other, by=reader.user, now=NOW)
    with pytest.raises(DigitalError) as refused:
        borrow(file=third, by=reader.user, now=NOW)
    assert (refused.value.code, refused.value.message) == (
        "limit",
        "Limit of 2 e-book loans reached.",
    )
    assert DigitalLoan.objects.filter(patron=reader).count() == 2


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("no card", "no_card"),
        ("blocked", "blocked"),
        ("expired card", "expired"),
        ("sibling reader", "not_allowed"),
    ],
)
def test_who_may_not_borrow(tree, book, who, code):
    if who == "no card":
        user = UserFactory()
    elif who == "blocked":
        user = reader_of(tree.own, status=Patron.Status.BLOCKED, blocked_reason="sách quá hạn").user
    elif who == "expired card":
        user = reader_of(tree.own, expires_on=datetime.date(2020, 1, 1)).user
    else:
        # No stored rule lets visitors borrow (a network-wide one would: SECURITY.md).
        CirculationRule.objects.all().delete()
        user = reader_of(tree.sibling).user
    with pytest.raises(DigitalError) as refused:
        borrow(file=book, by=user, now=NOW)
    assert refused.value.code == code
    assert not DigitalLoan.objects.exists()


def test_a_rule_for_digital_loans_lets_other_libraries_adults_borrow_but_never_children(tree, book):
    CirculationRule.objects.create(library=tree.own, item_type=DIGITAL_ITEM_TYPE, max_loans=3)
    adult = reader_of(tree.sibling)
    assert borrow(file=book, by=adult.user, now=NOW).loan.patron == adult
    other = add_book(tree.own, books.MOBY, licences=2)
    child = reader_of(tree.sibling, category=Patron.Category.CHILD)
    with pytest.raises(DigitalError) as refused:
        borrow(file=other, by=child.user, now=NOW)
    assert refused.value.code == "not_allowed"


def test_an_open_file_is_not_borrowed(tree):
    file = add_book(tree.own, books.CHILDREN, access=DigitalFile.Access.OPEN)
    with pytest.raises(DigitalError) as refused:
        borrow(file=file, by=reader_of(tree.own).user, now=NOW)
    assert refused.value.code == "not_lending"


def test_returning_early_frees_the_licence(tree, book):
    reader = reader_of(tree.own)
    loan = borrow(file=book, by=reader.user, now=NOW).loan
    stranger = reader_of(tree.own)
    with pytest.raises(DigitalError) as refused:
        return_loan(loan=loan, by=stranger.user, now=later(hours=1))
    assert refused.value.message == "Unknown loan."
    result = return_loan(loan=loan, by=reader.user, now=later(hours=2))
    loan.refresh_from_db()
    assert (loan.returned_at, loan.ended) == (later(hours=2), DigitalLoan.Ended.RETURNED)
    assert result.message == "Returned. Thank you!"
    assert not may_read_digital(reader.user, book, now=later(hours=3))
    assert borrow(file=book, by=stranger.user, now=later(hours=3)).loan.slot == 1


def test_the_waiting_list_hands_the_licence_to_the_next_reader_by_email(
    tree, book, django_capture_on_commit_callbacks
):
    first, second, third = (reader_of(tree.own) for _ in range(3))
    loan = borrow(file=book, by=first.user, now=NOW).loan
    with django_capture_on_commit_callbacks(execute=True):
        joined = wait_for(file=book, by=second.user, now=later(minutes=1))
        wait_for(file=book, by=third.user, now=later(minutes=2))
    assert joined.message == "You are on the waiting list, number 1. We will email you."
    hold = joined.hold
    assert (hold.digital_file, hold.record, hold.pickup_library, hold.status) == (
        book,
        book.record,
        tree.own,
        "pending",
    )
    assert mail.outbox == []
    assert availability(book, third, now=later(minutes=3)).position == 2
    with django_capture_on_commit_callbacks(execute=True):
        return_loan(loan=loan, by=first.user, now=later(hours=1))
    hold.refresh_from_db()
    assert (hold.status, hold.ready_at) == ("ready", later(hours=1))
    assert [m.to for m in mail.outbox] == [[second.email]]
    assert "“Children's Literature” is kept for you until 11:00 04/03/2026" in mail.outbox[0].body
    assert "/my/loans/" in mail.outbox[0].body
    # The third reader cannot take the licence kept for the second.
    with pytest.raises(DigitalError):
        borrow(file=book, by=third.user, now=later(hours=2))
    taken = borrow(file=book, by=second.user, now=later(hours=3))
    hold.refresh_from_db()
    assert (hold.status, hold.closed_at) == ("fulfilled", later(hours=3))
    assert taken.loan.patron == second
    assert Hold.objects.get(patron=third).status == "pending"


def test_a_licence_not_borrowed_within_48_hours_goes_to_the_next_reader(
    tree, book, django_capture_on_commit_callbacks
):
    first, second, third = (reader_of(tree.own) for _ in range(3))
    loan = borrow(file=book, by=first.user, now=NOW).loan
    wait_for(file=book, by=second.user, now=later(minutes=1))
    wait_for(file=book, by=third.user, now=later(minutes=2))
    return_loan(loan=loan, by=first.user, now=later(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        early = expire(now=later(hours=48))  # 47 hours after the offer: still kept
    assert (early.offers_expired, early.offers_made) == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        result = expire(now=later(hours=49, minutes=1))
    assert (result.loans_ended, result.offers_expired, result.offers_made) == (0, 1, 1)
    assert Hold.objects.get(patron=second).status == "expired"
    assert Hold.objects.get(patron=third).status == "ready"
    assert [m.to for m in mail.outbox] == [[third.email]]
    with pytest.raises(DigitalError):
        borrow(file=book, by=second.user, now=later(hours=50))


def test_joining_when_a_licence_is_free_keeps_it_at_once(tree, book):
    reader = reader_of(tree.own)
    result = wait_for(file=book, by=reader.user, now=NOW)
    assert result.hold.status == "ready"
    assert result.message == "A licence is free: borrow it before 10:00 04/03/2026."


def test_leaving_the_waiting_list_passes_a_kept_licence_on(tree, book):
    first, second = reader_of(tree.own), reader_of(tree.own)
    kept = wait_for(file=book, by=first.user, now=NOW).hold
    wait_for(file=book, by=second.user, now=later(minutes=1))
    result = cancel_wait(hold=kept, by=first.user, now=later(minutes=5))
    assert result.message == "You have left the waiting list."
    assert Hold.objects.get(pk=kept.pk).status == "cancelled"
    assert Hold.objects.get(patron=second).status == "ready"
    with pytest.raises(DigitalError):
        cancel_wait(hold=Hold.objects.get(patron=second), by=first.user)


def test_loans_end_by_themselves_and_give_no_access_after_their_end(tree, book):
    reader = reader_of(tree.own)
    loan = borrow(file=book, by=reader.user, now=NOW).loan
    end = loan.due_at
    assert may_read_digital(reader.user, book, now=end - datetime.timedelta(minutes=1))
    assert not may_read_digital(reader.user, book, now=end)  # before the job has run
    result = expire(now=end + datetime.timedelta(minutes=5))
    loan.refresh_from_db()
    assert (result.loans_ended, loan.ended, loan.returned_at) == (
        1,
        "expired",
        end + datetime.timedelta(minutes=5),
    )
    assert DigitalLoan.objects.open().count() == 0


def test_an_ended_loan_is_settled_when_the_next_reader_borrows(tree, book):
    first, second = reader_of(tree.own), reader_of(tree.own)
    loan = borrow(file=book, by=first.user, now=NOW).loan
    taken = borrow(file=book, by=second.user, now=loan.due_at + datetime.timedelta(seconds=1))
    loan.refresh_from_db()
    assert loan.ended == "expired" and taken.loan.slot == 1


def test_the_command_runs_the_expiry(tree, book):
    reader = reader_of(tree.own)
    borrow(file=book, by=reader.user, now=later(days=-30))
    out = io.StringIO()
    call_command("expire_digital_loans", stdout=out)
    assert out.getvalue().strip() == (
        "Ended 1 digital loans; 0 offers passed on; 0 readers told a licence is free."
    )
    assert DigitalLoan.objects.get().ended == "expired"


def test_childrens_returned_digital_loans_are_anonymised_like_print_loans(tree, book):
    child = reader_of(tree.own, category=Patron.Category.CHILD)
    keeper = reader_of(tree.own, category=Patron.Category.CHILD, keep_loan_history=True)
    adult = reader_of(tree.own)
    other = add_book(tree.own, books.MOBY, licences=3)
    loans = [
        borrow(file=other, by=p.user, now=later(days=-40)).loan for p in (child, keeper, adult)
    ]
    for loan, patron in zip(loans, (child, keeper, adult), strict=True):
        return_loan(loan=loan, by=patron.user, now=later(days=-35))
    current = borrow(file=book, by=child.user, now=NOW).loan
    assert anonymise_child_digital_loans(older_than_days=30, now=NOW) == 1
    assert [DigitalLoan.objects.get(pk=loan.pk).patron for loan in loans] == [None, keeper, adult]
    assert DigitalLoan.objects.get(pk=current.pk).patron == child  # open loans keep the reader
    assert DigitalLoan.objects.get(pk=loans[0].pk).patron_category == "child"  # statistics stay


def test_the_anonymise_loans_command_covers_digital_loans(tree, book):
    child = reader_of(tree.own, category=Patron.Category.CHILD)
    loan = borrow(file=book, by=child.user, now=later(days=-60)).loan
    return_loan(loan=loan, by=child.user, now=later(days=-59))
    call_command("anonymise_loans", "--days", "30", stdout=io.StringIO())
    loan.refresh_from_db()
    assert loan.patron is None


def test_readers_loans_and_library_counts_for_pages_api_and_dashboards(tree, book):
    other = add_book(tree.child, books.MOBY, licences=2)
    reader, second = reader_of(tree.own), reader_of(tree.child)
    a = borrow(file=other, by=reader.user, now=NOW).loan
    b = borrow(file=book, by=reader.user, now=later(hours=1)).loan
    c = borrow(file=other, by=second.user, now=NOW).loan
    return_loan(loan=c, by=second.user, now=later(hours=2))
    assert list(DigitalLoan.objects.on_loan_to(reader)) == [a, b]  # same end day: by id
    assert DigitalLoan.objects.counts_by_library() == {
        tree.own.pk: {"loans": 1, "open": 1, "readers": 1},
        tree.child.pk: {"loans": 2, "open": 1, "readers": 2},
    }
    assert DigitalLoan.objects.counts_by_library([tree.own], since=later(minutes=30)) == {
        tree.own.pk: {"loans": 1, "open": 1, "readers": 1}
    }
