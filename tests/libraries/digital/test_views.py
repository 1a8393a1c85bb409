"""Files only to those allowed, over HTTP: the access matrix, signed addresses (expired,
tampered, replayed after the loan), the headers and byte ranges, nginx's X-Accel-Redirect;
borrowing, returning and waiting from the pages; the record page and My loans."""

import datetime
import time

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from libraries.digital.services import borrow, return_loan, wait_for
from libraries.digital.views import sign_file
from libraries.models import DigitalFile, DigitalLoan, Hold, Role
from tests.factories import UserFactory, member
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of


def open_file(client, file, **extra):
    """GET the file's address, follow the signed redirect; (first response, final response)."""
    first = client.get(reverse("libraries:digital_file", args=[file.pk]), **extra)
    if first.status_code != 302 or "/digital/f/" not in first["Location"]:
        return first, None
    return first, client.get(first["Location"], **extra)


@pytest.fixture
def files(tree):
    cardholders = add_book(
        tree.own, books.QUIZ, access=DigitalFile.Access.CARDHOLDERS, cardholder_libraries=[tree.own]
    )
    return {
        "open": add_book(tree.own, books.CHILDREN, access=DigitalFile.Access.OPEN),
        "members": add_book(tree.own, books.ARABIC, access=DigitalFile.Access.MEMBERS),
        "cardholders": cardholders,
        "lending": add_book(tree.own, books.MOBY, licences=1),
    }


VIEWERS = [
    "anonymous",
    "account without card",
    "reader of a child library",
    "reader of the sibling",
    "borrower",
    "staff of the sibling",
    "staff of the owner",
]
EXPECTED = {
    # viewer: which access levels open
    "anonymous": {"open"},
    "account without card": {"open"},
    "reader of a child library": {"open", "members", "cardholders"},
    "reader of the sibling": {"open", "members"},
    "borrower": {"open", "members", "cardholders", "lending"},
    "staff of the sibling": {"open", "members"},
    "staff of the owner": {"open", "members", "cardholders", "lending"},
}


def login_viewer(client, tree, files, viewer):
    if viewer == "anonymous":
        return None
    if viewer == "account without card":
        user = UserFactory()
    elif viewer == "reader of a child library":
        user = reader_of(tree.child).user
    elif viewer == "reader of the sibling":
        user = reader_of(tree.sibling).user
    elif viewer == "borrower":
        user = reader_of(tree.own).user
        borrow(file=files["lending"], by=user)
    elif viewer == "staff of the sibling":
        user = member(tree.sibling, Role.LIBRARIAN)
    else:
        user = member(tree.own, Role.LIBRARIAN)
    client.force_login(user)
    return user


@pytest.mark.parametrize("viewer", VIEWERS)
def test_who_gets_the_bytes_of_which_file(client, tree, files, viewer):
    login_viewer(client, tree, files, viewer)
    for level, file in files.items():
        first, final = open_file(client, file)
        if level in EXPECTED[viewer]:
            assert final is not None and final.status_code == 200, (viewer, level)
            assert b"".join(final.streaming_content) == file.file.open("rb").read()
        elif viewer == "anonymous":
            assert first.status_code == 302 and first["Location"].startswith("/accounts/login/")
        else:
            assert first.status_code == 403, (viewer, level)
            assert "Not available to you" in first.content.decode()


def test_the_bytes_come_with_headers_that_keep_the_browser_from_running_them(client, tree, files):
    first, final = open_file(client, files["open"])
    assert first["Cache-Control"] == "no-store"
    assert final["Content-Type"] == "application/epub+zip"
    assert final["Content-Disposition"] == 'inline; filename="childrens-literature.epub"'
    assert final["X-Content-Type-Options"] == "nosniff"
    assert final["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert final["Accept-Ranges"] == "bytes"
    assert int(final["Content-Length"]) == books.CHILDREN.stat().st_size
    _first, download = open_file(client, files["open"], QUERY_STRING="download=1")
    assert download["Content-Disposition"] == 'attachment; filename="childrens-literature.epub"'


def test_pdf_readers_get_byte_ranges(client, tree):
    pdf = add_book(tree.own, books.text_pdf(), access=DigitalFile.Access.OPEN)
    whole = pdf.file.open("rb").read()
    url = client.get(reverse("libraries:digital_file", args=[pdf.pk]))["Location"]
    part = client.get(url, HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206
    assert part["Content-Type"] == "application/pdf"
    assert part["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert b"".join(part.streaming_content) == whole[:100]
    tail = client.get(url, HTTP_RANGE="bytes=-20")
    assert b"".join(tail.streaming_content) == whole[-20:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(whole) + 5}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(whole)}"


def test_an_expired_signed_address_is_refused(client, tree, files, monkeypatch):
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 3600)
    token = sign_file(None, files["open"])
    monkeypatch.setattr(signing.time, "time", real_time)
    response = client.get(reverse("libraries:digital_signed", args=[token]))
    assert response.status_code == 403
    assert response.content.decode() == "This link has expired. Open the book again."


@pytest.mark.parametrize("tamper", ["file", "signature", "garbage"])
def test_a_tampered_signed_address_is_not_found(client, tree, files, tamper):
    token = sign_file(None, files["open"])
    if tamper == "file":
        # Another file's number in the signed part: the signature no longer matches.
        payload, rest = token.split(":", 1)
        forged = signing.b64_encode(
            signing.b64_decode(payload.encode()).replace(
                str(files["open"].pk).encode(), str(files["lending"].pk).encode()
            )
        ).decode()
        token = f"{forged}:{rest}"
    elif tamper == "signature":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:
        token = "not-a-token"
    response = client.get(reverse("libraries:digital_signed", args=[token]))
    assert response.status_code == 404


def test_a_signed_address_stops_working_when_the_loan_ends(client, tree, files):
    reader = reader_of(tree.own)
    loan = borrow(file=files["lending"], by=reader.user).loan
    client.force_login(reader.user)
    address = client.get(reverse("libraries:digital_file", args=[files["lending"].pk]))["Location"]
    assert client.get(address).status_code == 200
    return_loan(loan=loan, by=reader.user)
    client.logout()
    refused = client.get(address)  # replayed within its minutes, without a session
    assert refused.status_code == 403
    assert refused.content.decode() == "You may not read this file (any more)."


def test_in_production_nginx_sends_the_bytes(client, tree, files, settings):
    settings.DIGITAL_X_ACCEL_PREFIX = "/_digital_files/"
    _first, final = open_file(client, files["open"])
    assert final.status_code == 200
    assert final["X-Accel-Redirect"] == "/_digital_files/" + files["open"].file.name
    assert final.content == b""
    assert final["Content-Type"] == "application/epub+zip"
    assert final["X-Content-Type-Options"] == "nosniff"


def test_no_file_is_reachable_by_its_storage_path(client, tree, files, settings):
    name = files["lending"].file.name
    assert not str(files["lending"].file.path).startswith(str(settings.MEDIA_ROOT))
    for path in (f"/media/{name}", f"/media/private/{name}", f"/{name}", "/private/" + name):
        assert client.get(path, follow=True).status_code == 404


def test_borrowing_returning_and_waiting_from_the_pages(client, tree, files):
    book = files["lending"]
    record_page = reverse("libraries:record_detail", args=[book.record_id])
    response = client.post(reverse("libraries:digital_borrow", args=[book.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not DigitalLoan.objects.exists()
    reader = reader_of(tree.own)
    client.force_login(reader.user)
    page = client.get(record_page).content.decode()
    assert "Digital copies" in page and "1 licence free" in page
    assert reverse("libraries:digital_borrow", args=[book.pk]) in page
    response = client.post(
        reverse("libraries:digital_borrow", args=[book.pk]), {"next": record_page}, follow=True
    )
    assert "Borrowed until" in response.content.decode()
    loan = DigitalLoan.objects.get()
    assert loan.patron == reader
    page = client.get(record_page).content.decode()
    assert reverse("libraries:digital_read", args=[book.pk]) in page
    assert "On loan to you until" in page
    # Another reader sees no free licence and joins the waiting list.
    other = reader_of(tree.own)
    client.force_login(other.user)
    page = client.get(record_page).content.decode()
    assert "0 licences free" in page and "Join the waiting list" in page
    client.post(reverse("libraries:digital_wait", args=[book.pk]))
    hold = Hold.objects.get(patron=other)
    assert "You are number 1 on the waiting list." in client.get(record_page).content.decode()
    # The borrower returns from My loans; the licence is kept for the waiting reader.
    client.force_login(reader.user)
    loans_page = client.get(reverse("libraries:my_loans")).content.decode()
    assert (
        "Moby-Dick" in loans_page
        and reverse("libraries:digital_return", args=[loan.pk]) in loans_page
    )
    client.post(reverse("libraries:digital_return", args=[loan.pk]))
    loan.refresh_from_db()
    assert loan.ended == "returned"
    hold.refresh_from_db()
    assert hold.status == "ready"
    client.force_login(other.user)
    loans_page = client.get(reverse("libraries:my_loans")).content.decode()
    assert "a licence is kept for you until" in loans_page


def test_a_reader_cannot_return_or_cancel_for_someone_else(client, tree, files):
    reader, other = reader_of(tree.own), reader_of(tree.own)
    loan = borrow(file=files["lending"], by=reader.user).loan
    hold = wait_for(file=files["lending"], by=other.user).hold
    client.force_login(other.user)
    assert client.post(reverse("libraries:digital_return", args=[loan.pk])).status_code == 404
    client.force_login(reader.user)
    assert client.post(reverse("libraries:digital_cancel_wait", args=[hold.pk])).status_code == 404
    # Nor through the print holds' cancel address.
    client.force_login(other.user)
    assert client.post(reverse("libraries:my_cancel_hold", args=[hold.pk])).status_code == 404
    loan.refresh_from_db()
    hold.refresh_from_db()
    assert (loan.returned_at, hold.status) == (None, "pending")


def test_the_record_page_offers_reading_by_access_level(client, tree, files):
    page = client.get(
        reverse("libraries:record_detail", args=[files["open"].record_id])
    ).content.decode()
    assert reverse("libraries:digital_read", args=[files["open"].pk]) in page
    page = client.get(
        reverse("libraries:record_detail", args=[files["members"].record_id])
    ).content.decode()
    assert "Log in to read" in page
    page = client.get(
        reverse("libraries:record_detail", args=[files["lending"].record_id])
    ).content.decode()
    assert "Log in to borrow" in page


def test_the_reading_page_is_for_those_who_may_read(client, tree, files):
    assert client.get(reverse("libraries:digital_read", args=[files["open"].pk])).status_code == 200
    response = client.get(reverse("libraries:digital_read", args=[files["lending"].pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_my_loans_lists_only_loans_still_running(client, tree, files):
    reader = reader_of(tree.own)
    borrow(file=files["lending"], by=reader.user, now=timezone.now() - datetime.timedelta(days=60))
    client.force_login(reader.user)
    assert "No e-books on loan." in client.get(reverse("libraries:my_loans")).content.decode()
