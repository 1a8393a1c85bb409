"""The reading page and the reader's place in a book over HTTP (libraries/digital/reader.py):
who may open it, what its Content-Security-Policy allows, and the position endpoint (login,
access, CSRF, validation; a refused save changes nothing). The reader in a real browser:
tests/e2e/test_reader.py."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from libraries.digital.services import borrow, return_loan
from libraries.models import CirculationRule, DigitalFile, ReadingPosition
from libraries.models.digital import DIGITAL_ITEM_TYPE
from tests.factories import UserFactory
from tests.fixture_files import FIXTURES
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of

CFI = "epubcfi(/6/14!/4/2/1:0)"
ROOT = FIXTURES.parent.parent


@pytest.fixture
def members_book(tree):
    return add_book(tree.own, books.CHILDREN, access=DigitalFile.Access.MEMBERS)


@pytest.fixture
def lending_book(tree):
    CirculationRule.objects.create(item_type=DIGITAL_ITEM_TYPE, loan_days=7, max_loans=2)
    return add_book(tree.own, books.ARABIC, access=DigitalFile.Access.LENDING, licences=1)


def config_of(response) -> dict:
    found = re.search(
        r'<script id="reader-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert found, "no reader configuration on the page"
    return json.loads(found.group(1))


def policy(response) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in response["Content-Security-Policy"].split(";"))
    return {p[0]: p[1:] for p in parts if p}


def post_position(client, file, body, **extra):
    return client.post(
        f"/digital/{file.pk}/position/",
        data=json.dumps(body),
        content_type="application/json",
        **extra,
    )


# --------------------------------------------------------------------------- the page


def test_the_reading_page_of_an_open_book_needs_no_login(client, tree):
    book = add_book(tree.own, books.MOBY, access=DigitalFile.Access.OPEN)
    response = client.get(f"/digital/{book.pk}/read/")
    assert response.status_code == 200
    config = config_of(response)
    assert config["kind"] == "epub"
    assert config["bookUrl"] == f"/digital/{book.pk}/file/"
    assert config["positionUrl"] == "" and config["position"] is None
    assert config["foliate"] == "/static/reader/foliate/view.js"
    assert config["pdfWorker"] == "/static/reader/pdfjs/pdf.worker.min.mjs"
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_reading_page_allows_blob_chapters_and_no_other_script(client, tree):
    book = add_book(tree.own, books.CHILDREN, access=DigitalFile.Access.OPEN)
    response = client.get(f"/digital/{book.pk}/read/")
    rules = policy(response)
    nonce = re.search(r'<script type="importmap" nonce="([^"]+)">', response.content.decode())
    assert rules["script-src"] == ["'self'", f"'nonce-{nonce.group(1)}'"]
    assert rules["frame-src"][-1] == "blob:" and rules["frame-src"][0] == "'self'"
    assert rules["img-src"] == ["'self'", "data:", "blob:"]
    assert rules["style-src"] == ["'self'", "'unsafe-inline'", "blob:"]
    assert rules["object-src"] == ["'none'"]
    assert rules["frame-ancestors"] == ["'none'"]
    # The import map names the one polyfill foliate-js imports, from our static files.
    assert '"construct-style-sheets-polyfill": "/static/reader/polyfill/' in (
        response.content.decode()
    )
    # Other pages keep the site's policy.
    other = policy(client.get(f"/catalog/record/{book.record_id}/"))
    assert "blob:" not in other["frame-src"] and "blob:" not in other["img-src"]
    assert other["script-src"] == ["'self'"]


def test_a_members_book_is_refused_to_visitors_and_non_members(client, tree, members_book):
    anonymous = client.get(f"/digital/{members_book.pk}/read/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")
    client.force_login(UserFactory())  # an account with no card and no role
    refused = client.get(f"/digital/{members_book.pk}/read/")
    assert refused.status_code == 403
    assert b"reader-config" not in refused.content
    assert b"Not available to you" in refused.content
    reader = reader_of(tree.sibling)
    client.force_login(reader.user)
    assert client.get(f"/digital/{members_book.pk}/read/").status_code == 200


def test_a_lent_book_is_read_only_while_on_loan(client, tree, lending_book):
    reader = reader_of(tree.own)
    client.force_login(reader.user)
    assert client.get(f"/digital/{lending_book.pk}/read/").status_code == 403
    loan = borrow(file=lending_book, by=reader.user).loan
    assert client.get(f"/digital/{lending_book.pk}/read/").status_code == 200
    return_loan(loan=loan, by=reader.user)
    assert client.get(f"/digital/{lending_book.pk}/read/").status_code == 403


# --------------------------------------------------------------------------- the position


def test_a_reader_saves_the_place_and_the_page_opens_there(tree, members_book):
    reader = reader_of(tree.own)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader.user)
    page = client.get(f"/digital/{members_book.pk}/read/")
    config = config_of(page)
    assert config["positionUrl"] == f"/digital/{members_book.pk}/position/"
    token = config["csrfToken"]

    saved = post_position(
        client, members_book, {"locator": CFI, "progress": 0.25}, HTTP_X_CSRFTOKEN=token
    )
    assert saved.status_code == 200
    assert saved.json()["position"]["locator"] == CFI
    again = post_position(
        client,
        members_book,
        {"locator": "epubcfi(/6/16!/4/2/3:7)", "progress": 0.5},
        HTTP_X_CSRFTOKEN=token,
    )
    assert again.status_code == 200
    stored = ReadingPosition.objects.get()
    assert (stored.user, stored.file, stored.locator, stored.progress) == (
        reader.user,
        members_book,
        "epubcfi(/6/16!/4/2/3:7)",
        0.5,
    )
    # Another device: the page and the endpoint give the stored place.
    other = Client()
    other.force_login(reader.user)
    resumed = config_of(other.get(f"/digital/{members_book.pk}/read/"))["position"]
    assert (resumed["locator"], resumed["progress"]) == ("epubcfi(/6/16!/4/2/3:7)", 0.5)
    got = other.get(f"/digital/{members_book.pk}/position/").json()["position"]
    assert got["locator"] == "epubcfi(/6/16!/4/2/3:7)"


def test_a_post_without_the_csrf_token_changes_nothing(tree, members_book):
    reader = reader_of(tree.own)
    ReadingPosition.objects.create(user=reader.user, file=members_book, locator=CFI, progress=0.1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader.user)
    refused = post_position(
        client, members_book, {"locator": "epubcfi(/6/20!/4/2/1:0)", "progress": 0.9}
    )
    assert refused.status_code == 403
    assert list(ReadingPosition.objects.values_list("locator", "progress")) == [(CFI, 0.1)]


def test_only_readers_of_the_book_may_save_a_place(client, tree, members_book, lending_book):
    body = {"locator": CFI, "progress": 0.3}
    assert post_position(client, members_book, body).status_code == 401
    client.force_login(UserFactory())
    refused = post_position(client, members_book, body)
    assert refused.status_code == 403
    assert refused.json() == {"error": "You may not read this file (any more)."}
    reader = reader_of(tree.own)
    client.force_login(reader.user)
    assert post_position(client, lending_book, body).status_code == 403
    assert ReadingPosition.objects.count() == 0

    loan = borrow(file=lending_book, by=reader.user).loan
    assert post_position(client, lending_book, body).status_code == 200
    return_loan(loan=loan, by=reader.user)
    late = post_position(client, lending_book, {"locator": CFI, "progress": 0.9})
    assert late.status_code == 403
    assert list(ReadingPosition.objects.values_list("progress", flat=True)) == [0.3]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"locator": "page:3", "progress": 0.1}, "This is not a position in this book."),
        ({"locator": "epubcfi(/6/2" + "!/4" * 400 + ")", "progress": 0.1}, "too long"),
        ({"locator": "", "progress": 0.1}, "missing"),
        ({"locator": CFI, "progress": 1.5}, "from 0 to 1"),
        ({"locator": CFI, "progress": "half"}, "from 0 to 1"),
        ({"locator": CFI, "progress": True}, "from 0 to 1"),
        (["not", "an", "object"], "Send a JSON object."),
        ({"locator": "epubcfi(/6/2\n<script>)", "progress": 0.1}, "not a position"),
    ],
)
def test_a_position_that_is_not_one_is_refused(client, tree, members_book, body, message):
    client.force_login(reader_of(tree.own).user)
    response = post_position(client, members_book, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert ReadingPosition.objects.count() == 0


def test_a_pdf_position_is_a_page(client, tree):
    pdf = add_book(tree.own, books.plain_pdf(), access=DigitalFile.Access.MEMBERS)
    client.force_login(reader_of(tree.own).user)
    assert post_position(client, pdf, {"locator": CFI, "progress": 0}).status_code == 400
    assert post_position(client, pdf, {"locator": "page:0", "progress": 0}).status_code == 400
    assert post_position(client, pdf, {"locator": "page:1", "progress": 0}).status_code == 200
    assert ReadingPosition.objects.get().locator == "page:1"


def test_malformed_json_is_refused(client, tree, members_book):
    client.force_login(reader_of(tree.own).user)
    response = client.post(
        f"/digital/{members_book.pk}/position/", data=b"{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Send a JSON object."}


# --------------------------------------------------------------------------- static files


def test_the_reader_is_served_from_our_static_files_and_nothing_else_of_its_packages():
    modules = ROOT / "node_modules" / "foliate-js"
    for name in ("view.js", "paginator.js", "epub.js", "search.js", "vendor/zip.js"):
        found = finders.find(f"reader/foliate/{name}")
        assert found, name
        assert Path(found).read_bytes() == (modules / name).read_bytes()
    # foliate-js's demo page opens any address it is given: it is never served.
    assert (modules / "reader.html").exists()
    assert finders.find("reader/foliate/reader.html") is None
    assert finders.find("reader/foliate/tests/tests.html") is None
    for name in ("pdf.min.mjs", "pdf.worker.min.mjs", "standard_fonts/FoxitSerif.pfb"):
        assert finders.find(f"reader/pdfjs/{name}"), name
    assert finders.find("reader/polyfill/adoptedStyleSheets.js")
    package = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name in ("foliate-js", "pdfjs-dist"):
        assert lock[f"node_modules/{name}"]["version"] == package[name]
