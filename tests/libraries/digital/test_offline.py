"""Books kept for offline reading, over HTTP (libraries/digital/offline.py): what the worker may
keep (open-access books, books on loan, nothing else), the list it checks to drop the copies
of loans that ended, the buttons on the reading page and /my/loans/, and replayed requests of
another account or after the loan. In a real browser: tests/e2e/test_offline_reading.py."""

from datetime import datetime, timedelta

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from libraries.digital.offline import COMMON_FILES, reader_files
from libraries.digital.services import borrow, return_loan
from libraries.digital.views import signed_url
from libraries.models import DigitalFile, Role
from tests.factories import UserFactory, member
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of


@pytest.fixture
def shelf(tree):
    """An open book, a members' book and a lent book (1 licence) of HBT."""
    return {
        "open": add_book(tree.own, books.guide_pdf(), access=DigitalFile.Access.OPEN),
        "members": add_book(tree.own, books.ARABIC, access=DigitalFile.Access.MEMBERS),
        "lending": add_book(tree.own, books.CHILDREN, licences=1),
    }


def logged_in(user=None) -> Client:
    """A client of its own (in English, as the `client` fixture), logged in as `user`."""
    client = Client()
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


def keep(client, file):
    return client.get(f"/digital/{file.pk}/offline/")


def kept_list(client, *files, ids=None):
    value = ids if ids is not None else ",".join(str(f.pk) for f in files)
    return client.get("/digital/offline/", {"ids": value})


def test_an_open_book_may_be_kept_by_anyone(client, shelf):
    book = shelf["open"]
    response = keep(client, book)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert (data["file"], data["kind"], data["title"], data["until"]) == (
        book.pk,
        "pdf",
        book.record.title,
        None,
    )
    assert (data["page"], data["book"]) == (
        f"/digital/{book.pk}/read/",
        f"/digital/{book.pk}/file/",
    )
    assert "/static/reader/pdfjs/pdf.worker.min.mjs" in data["files"]
    assert "/static/reader/reader.js" in data["files"]
    assert not [path for path in data["files"] if "foliate" in path]


def test_a_lent_book_may_be_kept_until_the_loan_ends(tree, shelf):
    book = shelf["lending"]
    reader = reader_of(tree.own)
    loan = borrow(file=book, by=reader.user).loan
    client = logged_in(reader.user)
    data = keep(client, book).json()
    assert datetime.fromisoformat(data["until"]) == loan.due_at
    assert "/static/reader/foliate/view.js" in data["files"]
    assert "/static/reader/foliate/vendor/zip.js" in data["files"]
    listed = kept_list(client, shelf["open"], book, shelf["members"])
    assert "no-store" in listed["Cache-Control"]
    assert listed.json() == {
        "files": [
            {"id": shelf["open"].pk, "until": None},
            {"id": book.pk, "until": data["until"]},
        ]
    }

    return_loan(loan=loan, by=reader.user)
    refused = keep(client, book)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "Only open-access books and books on loan can be kept offline."
    }
    assert kept_list(client, shelf["open"], book).json() == {
        "files": [{"id": shelf["open"].pk, "until": None}]
    }


def test_a_loan_past_its_end_is_not_listed_before_the_hourly_run(tree, shelf):
    book = shelf["lending"]
    reader = reader_of(tree.own)
    borrow(file=book, by=reader.user, now=timezone.now() - timedelta(days=60))
    client = logged_in(reader.user)
    assert keep(client, book).status_code == 403
    assert kept_list(client, book).json() == {"files": []}


@pytest.mark.parametrize("who", ["anonymous", "other reader", "member", "librarian"])
def test_nobody_else_keeps_a_lent_book_or_reaches_its_bytes(tree, shelf, who):
    """The loan holder's stable address (/digital/<id>/file/) is a key in their browser's
    cache only: the server refuses it, the keep list and the check list to anyone else (staff
    who may open the file to check it do not keep it either). The members' book is readable
    by a member but is not an offline book."""
    book = shelf["lending"]
    holder = reader_of(tree.own)
    borrow(file=book, by=holder.user)
    holders_link = signed_url(holder.user, book)
    users = {
        "anonymous": None,
        "other reader": reader_of(tree.own).user,
        "member": member(tree.own, Role.READER),
        "librarian": member(tree.own, Role.LIBRARIAN),
    }
    user = users[who]
    client = logged_in(user)
    assert keep(client, book).status_code == 403
    assert keep(client, shelf["members"]).status_code == 403
    assert kept_list(client, book, shelf["members"]).json() == {"files": []}
    stable = client.get(f"/digital/{book.pk}/file/")
    if who == "librarian":
        assert stable.status_code == 302  # staff may open their library's file to check it
    elif who == "anonymous":
        assert (stable.status_code, stable["Location"].split("?")[0]) == (302, "/accounts/login/")
    else:
        assert stable.status_code == 403
    # The holder's own signed link, replayed after the loan: refused.
    return_loan(loan=book.loans.get(), by=holder.user)
    assert client.get(holders_link).status_code == 403
    assert logged_in(holder.user).get(f"/digital/{book.pk}/file/").status_code == 403


def test_the_check_list_refuses_a_malformed_or_long_list(client, shelf):
    for value in ["1,x", "-1", "1;2", ",".join(str(n) for n in range(1, 102))]:
        response = kept_list(client, ids=value)
        assert response.status_code == 400, value
        assert response.json() == {"error": "Send at most 100 file numbers, comma-separated."}
    assert kept_list(client, ids="").json() == {"files": []}
    assert kept_list(client, ids="999999,").json() == {"files": []}
    assert keep(client, DigitalFile(pk=999999)).status_code == 404


def test_the_lists_answer_get_only(client, shelf):
    assert client.post(f"/digital/{shelf['open'].pk}/offline/").status_code == 405
    assert client.post("/digital/offline/").status_code == 405


def test_the_reader_files_exist(shelf):
    for kind in ("epub", "pdf"):
        for path in reader_files(kind):
            assert finders.find(path), path
    assert set(COMMON_FILES) <= set(reader_files("epub"))
    pdf = reader_files("pdf")
    # pdf.js's fonts for PDFs in a standard font, and its image decoders.
    assert "reader/pdfjs/standard_fonts/LiberationSans-Regular.ttf" in pdf
    assert "reader/pdfjs/wasm/openjpeg.wasm" in pdf
    assert not [path for path in pdf if "LICENSE" in path or "/cmaps/" in path]


def test_the_reading_page_and_my_loans_offer_to_keep_only_what_may_be_kept(tree, shelf):
    reader = reader_of(tree.own)
    loan = borrow(file=shelf["lending"], by=reader.user).loan
    client = logged_in(reader.user)
    button = 'data-offline-book="/digital/{}/offline/"'
    for name in ("open", "lending"):
        page = client.get(f"/digital/{shelf[name].pk}/read/").content.decode()
        assert button.format(shelf[name].pk) in page
        assert "/static/reader/offline.js" in page
    members = logged_in(member(tree.own, Role.READER))
    page = members.get(f"/digital/{shelf['members'].pk}/read/").content.decode()
    assert "data-offline-book" not in page
    assert "/static/reader/offline.js" not in page

    loans = client.get("/my/loans/").content.decode()
    assert button.format(shelf["lending"].pk) in loans
    assert "data-offline-check" in loans
    return_loan(loan=loan, by=reader.user)
    loans = client.get("/my/loans/").content.decode()
    assert button.format(shelf["lending"].pk) not in loans
    # Still checked with no loan left: that is when a kept copy must go.
    assert "data-offline-check" in loans


def test_the_worker_is_told_where_books_and_positions_live(client, db):
    config = client.get("/sw.js").content.decode().split(";\n", 1)[0]
    assert '"list": "/digital/offline/"' in config
    assert '"file": "^/digital/\\\\d+/file/$"' in config
    assert '"page": "^/digital/\\\\d+/read/$"' in config
    assert '"position": "^/digital/\\\\d+/position/$"' in config


@pytest.fixture(autouse=True)
def _anyone(db):
    UserFactory()  # ids of users and files differ
