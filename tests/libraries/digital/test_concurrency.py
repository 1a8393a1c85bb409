"""Licences under load, with real threads on PostgreSQL (skipped on SQLite)."""

import pytest
from django.db import IntegrityError, transaction

from libraries.digital.services import DigitalError, borrow, return_loan, wait_for
from libraries.models import DigitalLoan, Hold
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of
from tests.threads import failures, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_many_readers_borrowing_two_licences_make_exactly_two_loans(tree):
    book = add_book(tree.own, books.CHILDREN, licences=2)
    readers = [reader_of(tree.own) for _ in range(10)]
    outcomes = run_together([lambda r=r: borrow(file=book, by=r.user) for r in readers])
    assert DigitalLoan.objects.open().count() == 2
    assert sorted(DigitalLoan.objects.values_list("slot", flat=True)) == [1, 2]
    refusals = failures(outcomes)
    assert len(refusals) == 8
    assert {type(r) for r in refusals} == {DigitalError}
    assert {r.code for r in refusals} == {"no_licence"}


def test_one_reader_clicking_many_times_holds_one_licence(tree):
    book = add_book(tree.own, books.CHILDREN, licences=3)
    reader = reader_of(tree.own)
    outcomes = run_together([lambda: borrow(file=book, by=reader.user) for _ in range(6)])
    assert failures(outcomes) == []
    assert DigitalLoan.objects.filter(patron=reader).count() == 1
    assert sum(outcome.repeated for outcome in outcomes) == 5


def test_returns_and_borrows_at_once_never_pass_the_licences(tree):
    book = add_book(tree.own, books.MOBY, licences=2)
    holders = [reader_of(tree.own) for _ in range(2)]
    loans = [borrow(file=book, by=r.user).loan for r in holders]
    newcomers = [reader_of(tree.own) for _ in range(6)]
    jobs = [
        lambda loan=loan, r=r: return_loan(loan=loan, by=r.user)
        for loan, r in zip(loans, holders, strict=True)
    ]
    jobs += [lambda r=r: borrow(file=book, by=r.user) for r in newcomers]
    run_together(jobs)
    assert DigitalLoan.objects.open().count() <= 2
    slots = list(DigitalLoan.objects.open().values_list("slot", flat=True))
    assert len(slots) == len(set(slots)) and set(slots) <= {1, 2}


def test_readers_joining_the_waiting_list_at_once_get_one_offer_per_free_licence(tree):
    book = add_book(tree.own, books.CHILDREN, licences=1)
    readers = [reader_of(tree.own) for _ in range(8)]
    run_together([lambda r=r: wait_for(file=book, by=r.user) for r in readers])
    assert Hold.objects.filter(digital_file=book, status="ready").count() == 1
    assert Hold.objects.filter(digital_file=book, status="pending").count() == 7


def test_the_database_itself_refuses_a_second_open_loan_on_one_licence(tree):
    book = add_book(tree.own, books.CHILDREN, licences=2)
    first, second = reader_of(tree.own), reader_of(tree.own)
    loan = borrow(file=book, by=first.user).loan
    with pytest.raises(IntegrityError), transaction.atomic():
        DigitalLoan.objects.create(
            file=book,
            slot=loan.slot,
            patron=second,
            patron_category=second.category,
            library=book.library,
            due_at=loan.due_at,
        )
    assert DigitalLoan.objects.count() == 1
