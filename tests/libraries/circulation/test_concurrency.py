"""Concurrency invariants with real threads on PostgreSQL (skipped on SQLite)."""

import datetime

import pytest
from django.utils import timezone

from libraries.circulation.patrons import PatronError, approve_registration
from libraries.circulation.services import CirculationError
from libraries.models import CirculationRule, Loan, Patron, RegistrationRequest
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory, lend
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_many_desks_lending_one_item_make_exactly_one_loan(network):
    item = ItemFactory(library=network.a)
    patrons = [PatronFactory(home_library=network.a) for _ in range(8)]
    results = run_together([lambda p=p: lend(item, p, by=network.librarian_a) for p in patrons])
    assert Loan.objects.count() == 1
    refusals = [r for r in results if isinstance(r, CirculationError)]
    assert len(refusals) == 7
    assert {r.code for r in refusals} == {"on_loan"}


def test_one_reader_at_many_desks_cannot_pass_the_limit(network):
    CirculationRule.objects.create(max_loans=2)
    patron = PatronFactory(home_library=network.a)
    items = [ItemFactory(library=network.a) for _ in range(6)]
    results = run_together([lambda i=i: lend(i, patron, by=network.librarian_a) for i in items])
    assert Loan.objects.filter(patron=patron).count() == 2
    assert sum(isinstance(r, CirculationError) and r.code == "limit" for r in results) == 4


def test_two_approvals_of_one_application_issue_one_card(network):
    request = RegistrationRequest.objects.create(
        full_name="Lê Văn Tám",
        date_of_birth=datetime.date(1990, 1, 1),
        home_library=network.a,
        email="tam@example.org",
    )
    results = run_together(
        [
            lambda user=user: approve_registration(request_id=request.pk, by=user)
            for user in (network.librarian_a, network.admin, network.librarian_a)
        ]
    )
    assert Patron.objects.count() == 1
    assert sum(isinstance(r, PatronError) for r in results) == 2
    request.refresh_from_db()
    assert request.patron == Patron.objects.get()
    assert request.patron.card_number == "THCSA-000001"
    assert request.patron.expires_on > timezone.localdate()
