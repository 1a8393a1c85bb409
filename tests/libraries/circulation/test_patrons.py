import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from libraries.circulation import patrons
from libraries.circulation.patrons import PatronError
from libraries.circulation.services import check_in, check_out
from libraries.models import Loan, Patron, RegistrationRequest
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory

pytestmark = pytest.mark.django_db


def test_card_numbers_are_library_code_and_sequence(network):
    first = patrons.create_card(
        by=network.librarian_a, home_library=network.a, full_name="  An  Bình ", category="adult"
    )
    second = patrons.create_card(
        by=network.librarian_a, home_library=network.a, full_name="Chi", category="teacher"
    )
    other = patrons.create_card(
        by=network.librarian_b, home_library=network.b, full_name="Dũng", category="adult"
    )
    assert [first.card_number, second.card_number, other.card_number] == [
        "THCSA-000001",
        "THCSA-000002",
        "THCSB-000001",
    ]
    assert first.full_name == "An Bình" and first.status == Patron.Status.ACTIVE
    assert first.keep_loan_history is True


def test_child_card_needs_a_guardian_and_keeps_no_history(network):
    ten_years_ago = timezone.localdate() - datetime.timedelta(days=365 * 10)
    with pytest.raises(PatronError):
        patrons.create_card(
            by=network.librarian_a,
            home_library=network.a,
            full_name="Bé Na",
            category="student",
            date_of_birth=ten_years_ago,
        )
    child = patrons.create_card(
        by=network.librarian_a,
        home_library=network.a,
        full_name="Bé Na",
        category="student",
        date_of_birth=ten_years_ago,
        guardian_name="Mẹ Na",
        guardian_contact="0912345678",
    )
    assert child.category == "child" and child.keep_loan_history is False
    assert child.expires_on.year == timezone.localdate().year + 1


def test_staff_cannot_issue_cards_for_another_school(network):
    with pytest.raises(PatronError):
        patrons.create_card(
            by=network.librarian_a, home_library=network.b, full_name="X", category="adult"
        )
    assert not Patron.objects.exists()


def test_renew_card_reactivates_an_expired_card(network):
    patron = PatronFactory(
        home_library=network.a, status="expired", expires_on=datetime.date(2020, 5, 1)
    )
    today = datetime.date(2026, 11, 25)
    renewed = patrons.renew_card(patron_id=patron.pk, by=network.librarian_a, today=today)
    assert renewed.status == "active" and renewed.expires_on == datetime.date(2028, 11, 25)
    with pytest.raises(PatronError):
        patrons.renew_card(patron_id=patron.pk, by=network.librarian_b)


def test_approve_and_reject_applications(network, django_capture_on_commit_callbacks):
    request = RegistrationRequest.objects.create(
        full_name="Hoa",
        date_of_birth=datetime.date(1995, 3, 3),
        home_library=network.a,
        email="hoa@example.org",
    )
    with django_capture_on_commit_callbacks(execute=True):
        patron = patrons.approve_registration(request_id=request.pk, by=network.librarian_a)
    assert patron.card_number == "THCSA-000001"
    assert mail.outbox[-1].to == ["hoa@example.org"] and "THCSA-000001" in mail.outbox[-1].body
    with pytest.raises(PatronError):
        patrons.approve_registration(request_id=request.pk, by=network.librarian_a)
    other = RegistrationRequest.objects.create(
        full_name="Lan",
        date_of_birth=datetime.date(1995, 3, 3),
        home_library=network.a,
        email="lan@example.org",
    )
    with pytest.raises(PatronError):
        patrons.reject_registration(request_id=other.pk, by=network.librarian_a, reason="  ")
    with pytest.raises(PatronError):
        patrons.reject_registration(request_id=other.pk, by=network.librarian_b, reason="Không rõ")
    with django_capture_on_commit_callbacks(execute=True):
        patrons.reject_registration(
            request_id=other.pk, by=network.librarian_a, reason="Không học ở trường"
        )
    other.refresh_from_db()
    assert other.status == "rejected" and other.patron is None
    assert "Không học ở trường" in mail.outbox[-1].body
    assert Patron.objects.count() == 1


def test_anonymise_children_loans_after_the_set_days(network, settings):
    settings.CIRCULATION_ANONYMISE_CHILD_LOANS_AFTER_DAYS = 30
    child = PatronFactory(home_library=network.a, category="child", keep_loan_history=False)
    adult = PatronFactory(home_library=network.a, keep_loan_history=True)
    old, recent, adults, still_out = (ItemFactory(library=network.a) for _ in range(4))
    kw = {"by": network.librarian_a, "at": network.a}
    long_ago = timezone.now() - datetime.timedelta(days=60)
    for item, patron in ((old, child), (adults, adult)):
        check_out(item_barcode=item.barcode, card_number=patron.card_number, now=long_ago, **kw)
        check_in(item_barcode=item.barcode, now=long_ago + datetime.timedelta(days=1), **kw)
    check_out(item_barcode=recent.barcode, card_number=child.card_number, **kw)
    check_in(item_barcode=recent.barcode, **kw)
    check_out(item_barcode=still_out.barcode, card_number=child.card_number, now=long_ago, **kw)
    call_command("anonymise_loans", stdout=io.StringIO())
    assert Loan.objects.count() == 4
    assert Loan.objects.get(item=old).patron is None
    assert Loan.objects.get(item=old).patron_category == "child"
    assert Loan.objects.get(item=recent).patron == child
    assert Loan.objects.get(item=still_out).patron == child
    assert Loan.objects.get(item=adults).patron == adult


def test_overdue_notices_are_sent_once_a_day(network):
    patron = PatronFactory(home_library=network.a, email="docgia@example.org")
    quiet = PatronFactory(home_library=network.a, email="")
    late, late2, on_time, quiet_item = (ItemFactory(library=network.a) for _ in range(4))
    kw = {"by": network.librarian_a, "at": network.a}
    long_ago = timezone.now() - datetime.timedelta(days=30)
    check_out(item_barcode=late.barcode, card_number=patron.card_number, now=long_ago, **kw)
    check_out(item_barcode=late2.barcode, card_number=patron.card_number, now=long_ago, **kw)
    check_out(item_barcode=on_time.barcode, card_number=patron.card_number, **kw)
    check_out(item_barcode=quiet_item.barcode, card_number=quiet.card_number, now=long_ago, **kw)
    call_command("send_overdue_notices", stdout=io.StringIO())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["docgia@example.org"]
    assert late.barcode in mail.outbox[0].body and late2.barcode in mail.outbox[0].body
    assert on_time.barcode not in mail.outbox[0].body
    call_command("send_overdue_notices", stdout=io.StringIO())
    assert len(mail.outbox) == 1
