"""E-books in the reader's API: GET /api/v1/me/loans lists digital loans beside print ones
(`kind`, title, due date, the reading page), and DELETE /api/v1/me/holds/{id} of an e-book's
waiting-list entry goes through libraries/digital/services.py cancel_wait, so the licence kept
for the reader is offered to the next one. Only the caller's own loans and holds."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from libraries.digital import services as digital
from libraries.models import DigitalLoan, Hold
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def ebook(world):
    """A lending e-book of the district (both schools' readers may borrow it), 1 licence."""
    return add_book(world.district, books.CHILDREN, licences=1)


def test_my_loans_lists_my_e_books_beside_my_print_loans(client, world, token_client, ebook):
    moby = add_book(world.district, books.MOBY, licences=2)
    loan = digital.borrow(file=ebook, by=world.reader).loan
    # Not listed: a loan returned, a loan whose time is over, another reader's loan.
    returned = digital.borrow(file=moby, by=world.reader).loan
    digital.return_loan(loan=returned, by=world.reader)
    long_ago = timezone.now() - timedelta(days=60)
    pdf = add_book(world.a, books.guide_pdf(), licences=1)
    digital.borrow(file=pdf, by=world.reader, now=long_ago)
    digital.borrow(file=moby, by=world.other)

    response = client.get("/api/v1/me/loans", **token_client(world.reader))
    assert response.status_code == 200
    data = response.json()
    assert [(row["kind"], row["id"]) for row in data] == [
        ("print", world.loan.pk),
        ("digital", loan.pk),
    ]
    printed, e_book = data
    assert (printed["item_barcode"], printed["file_id"], printed["reader_url"]) == (
        "A0000001",
        None,
        None,
    )
    loan.refresh_from_db()
    # The dates are the loan's own (JSON gives milliseconds).
    for field, value in (("checked_out_at", loan.borrowed_at), ("due_at", loan.due_at)):
        sent = datetime.fromisoformat(e_book.pop(field))
        assert abs(sent - value) < timedelta(milliseconds=1)
    assert e_book == {
        "id": loan.pk,
        "kind": "digital",
        "title": ebook.record.title,
        "record_id": ebook.record_id,
        "item_barcode": None,
        "library_code": "HBT",
        "overdue": False,
        "renewals_count": 0,
        "file_id": ebook.pk,
        "file_format": "epub",
        "reader_url": f"http://testserver/digital/{ebook.pk}/read/",
    }


def test_another_reader_sees_only_their_own_e_book_loans(client, world, token_client, ebook):
    digital.borrow(file=ebook, by=world.reader)
    response = client.get("/api/v1/me/loans", **token_client(world.other))
    assert response.status_code == 200
    assert [(row["kind"], row["id"]) for row in response.json()] == [("print", world.other_loan.pk)]


def test_my_holds_say_which_are_e_book_waiting_lists(client, world, token_client, ebook):
    digital.borrow(file=ebook, by=world.other)
    hold = digital.wait_for(file=ebook, by=world.reader).hold
    response = client.get("/api/v1/me/holds", **token_client(world.reader))
    assert response.status_code == 200
    ((row),) = response.json()
    assert (row["id"], row["kind"], row["file_id"], row["status"]) == (
        hold.pk,
        "digital",
        ebook.pk,
        "pending",
    )


def waiting_line(world, ebook):
    """A third reader has the one licence; the reader waits first, bandoc_b second. The loan
    is returned: the licence is kept for the reader (ready), bandoc_b still waits."""
    holder = reader_of(world.a)
    loan = digital.borrow(file=ebook, by=holder.user).loan
    mine = digital.wait_for(file=ebook, by=world.reader).hold
    theirs = digital.wait_for(file=ebook, by=world.other).hold
    digital.return_loan(loan=loan, by=holder.user)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (Hold.Status.READY, Hold.Status.PENDING)
    return mine, theirs


def statuses(*holds):
    return [Hold.objects.get(pk=h.pk).status for h in holds]


def test_leaving_an_e_books_waiting_list_offers_the_licence_to_the_next_reader(
    client, world, token_client, ebook
):
    mine, theirs = waiting_line(world, ebook)
    response = client.delete(f"/api/v1/me/holds/{mine.pk}", **token_client(world.reader))
    assert response.status_code == 200
    assert response.json() == {"message": "You have left the waiting list."}
    assert statuses(mine, theirs) == [Hold.Status.CANCELLED, Hold.Status.READY]
    # bandoc_b may borrow the licence now; nobody else holds it.
    assert digital.borrow(file=ebook, by=world.other).loan.patron == world.other_patron
    # A second DELETE changes nothing.
    again = client.delete(f"/api/v1/me/holds/{mine.pk}", **token_client(world.reader))
    assert again.status_code == 200
    assert again.json() == {"message": "This hold is already closed."}
    assert statuses(mine, theirs) == [Hold.Status.CANCELLED, Hold.Status.FULFILLED]


@pytest.mark.parametrize("who", ["anonymous", "other", "no_card", "student", "librarian"])
def test_nobody_else_leaves_my_waiting_list(client, world, token_client, ebook, who):
    mine, theirs = waiting_line(world, ebook)
    before = list(Hold.objects.order_by("pk").values_list("pk", "status", "closed_at"))
    loans_before = list(DigitalLoan.objects.order_by("pk").values_list("pk", "returned_at"))
    user = None if who == "anonymous" else getattr(world, who)
    response = client.delete(f"/api/v1/me/holds/{mine.pk}", **token_client(user))
    status, code = (401, "not_authenticated") if who == "anonymous" else (404, "not_found")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert list(Hold.objects.order_by("pk").values_list("pk", "status", "closed_at")) == before
    assert list(DigitalLoan.objects.order_by("pk").values_list("pk", "returned_at")) == loans_before


def test_the_openapi_document_describes_digital_loans(client, db):
    document = client.get("/api/v1/openapi.json").json()
    loan = document["components"]["schemas"]["LoanOut"]["properties"]
    assert loan["kind"]["enum"] == ["print", "digital"]
    assert {"file_id", "file_format", "reader_url", "item_barcode"} <= set(loan)
    hold = document["components"]["schemas"]["HoldOut"]["properties"]
    assert hold["kind"]["enum"] == ["print", "digital"]
    summary = document["paths"]["/api/v1/me/loans"]["get"]["summary"]
    assert summary == "My current loans, print and digital"
