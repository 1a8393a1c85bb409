"""The OPDS 1.2 catalog for reading apps (libraries/digital/opds.py), with feedparser as the
client: navigation to acquisition feeds, pages, search, covers, downloading an open book,
borrowing with HTTP Basic over the reader's account; the Atom checked element by element and
the Authentication Document against its JSON Schema. Attacks over HTTP: books for members
or card holders never listed to others, wrong passwords refused and counted in the login
limits, no session cookie, no borrowing from another site's page."""

import base64
import json
from urllib.parse import urlencode, urlsplit

import feedparser
import jsonschema_rs
import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from lxml import etree

from libraries.digital import opds
from libraries.models import CirculationRule, DigitalFile, DigitalLoan, Patron
from libraries.models.digital import DIGITAL_ITEM_TYPE
from tests.factories import PASSWORD
from tests.fixture_files import FIXTURES
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of

ATOM = "{http://www.w3.org/2005/Atom}"
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
BORROW = "http://opds-spec.org/acquisition/borrow"
ACQUIRE = "http://opds-spec.org/acquisition"
SCHEMAS = FIXTURES / "opds"


class Catalogue:
    def __init__(self, tree):
        CirculationRule.objects.create(item_type=DIGITAL_ITEM_TYPE, loan_days=7, max_loans=2)
        own = tree.own
        self.moby = add_book(own, books.MOBY, access=DigitalFile.Access.OPEN)
        self.guide = add_book(
            own,
            books.text_pdf("Sổ tay thư viện số", ["Hướng dẫn đọc sách điện tử."]),
            access=DigitalFile.Access.OPEN,
        )
        self.lent = add_book(own, books.CHILDREN, access=DigitalFile.Access.LENDING, licences=1)
        self.members = add_book(own, books.ARABIC, access=DigitalFile.Access.MEMBERS)
        self.cardholders = add_book(
            own,
            books.QUIZ,
            access=DigitalFile.Access.CARDHOLDERS,
            cardholder_libraries=[tree.sibling],
        )


@pytest.fixture
def catalogue(tree):
    return Catalogue(tree)


def verified(patron: Patron) -> Patron:
    user = patron.user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return patron


def basic(user, password=PASSWORD) -> dict:
    token = base64.b64encode(f"{user.username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def path_of(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fetch(client, href, **extra):
    response = client.get(path_of(href), **extra)
    assert response.status_code == 200, (href, response.status_code, response.content[:300])
    return response


def feed_of(response, kind=None):
    """The feed as a reading app reads it (feedparser), after checking the Atom."""
    if kind:
        assert response["Content-Type"] == f"{kind};charset=utf-8"
    check_atom(response.content)
    parsed = feedparser.parse(
        response.content, response_headers={"content-type": response["Content-Type"]}
    )
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def check_atom(content: bytes) -> None:
    """Atom's required elements (RFC 4287): feed and entries with one id, title, updated;
    links with rel, type and an absolute href; every entry of an acquisition feed with an
    acquisition link; authors on the feed (entries may have none)."""
    root = etree.fromstring(content)
    assert root.tag == f"{ATOM}feed"
    for element in [root, *root.findall(f"{ATOM}entry")]:
        for name in ("id", "title", "updated"):
            found = element.findall(f"{ATOM}{name}")
            assert len(found) == 1 and found[0].text, (name, etree.tostring(element)[:200])
        assert element.find(f"{ATOM}id").text.startswith("tag:")
        assert element.find(f"{ATOM}updated").text.endswith("Z")
        for link in element.findall(f"{ATOM}link"):
            assert link.get("rel") and link.get("type"), etree.tostring(link)
            assert link.get("href").startswith("http://testserver/"), link.get("href")
    assert root.find(f"{ATOM}author/{ATOM}name").text
    rels = {link.get("rel") for link in root.findall(f"{ATOM}link")}
    assert {"self", "start", "search", "http://opds-spec.org/auth/document"} <= rels
    kind = root.find(f"{ATOM}link[@rel='self']").get("type")
    if kind == ACQUISITION:
        for entry in root.findall(f"{ATOM}entry"):
            acquisitions = [
                link
                for link in entry.findall(f"{ATOM}link")
                if link.get("rel").startswith("http://opds-spec.org/acquisition")
            ]
            assert len(acquisitions) == 1
            assert acquisitions[0].get("type") in ("application/epub+zip", "application/pdf")


def link(entry_or_feed, rel) -> dict:
    found = [item for item in entry_or_feed["links"] if item["rel"] == rel]
    assert len(found) == 1, (rel, entry_or_feed["links"])
    return found[0]


def all_titles(client, href, **extra) -> list[str]:
    """Every entry title of an acquisition feed, page after page."""
    titles = []
    while href:
        feed = feed_of(fetch(client, href, **extra), ACQUISITION)
        titles += [entry.title for entry in feed.entries]
        href = next((item["href"] for item in feed.feed.links if item["rel"] == "next"), None)
    return titles


def file_title(file: DigitalFile) -> str:
    file.record.refresh_from_db()
    return file.record.title


# --------------------------------------------------------------------------- browsing


def test_a_reading_app_goes_from_the_root_to_a_book_and_downloads_it(client, catalogue):
    root = feed_of(client.get("/opds/"), NAVIGATION)
    assert [entry.title for entry in root.entries] == ["New titles", "By subject", "By library"]
    new = link(root.entries[0], "http://opds-spec.org/sort/new")
    assert new["type"] == ACQUISITION
    feed = feed_of(fetch(client, new["href"]), ACQUISITION)
    shown = {entry.title: entry for entry in feed.entries}
    # Visitors see open books and lent ones (to log in and borrow), never the others.
    assert set(shown) == {
        file_title(catalogue.moby),
        file_title(catalogue.guide),
        file_title(catalogue.lent),
    }
    moby = shown[file_title(catalogue.moby)]
    assert [author.name for author in moby.authors] == ["Herman Melville"]
    assert moby.dcterms_language == "en"
    cover = link(moby, "http://opds-spec.org/image")
    assert cover["type"] == "image/jpeg"
    assert link(moby, "http://opds-spec.org/image/thumbnail")["href"].endswith("?size=thumbnail")
    acquisition = link(moby, OPEN_ACCESS)
    assert acquisition["type"] == "application/epub+zip"
    download = client.get(path_of(acquisition["href"]), follow=True)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/epub+zip"
    assert b"".join(download.streaming_content) == books.MOBY.read_bytes()
    image = client.get(path_of(cover["href"]))
    assert image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:3] == b"\xff\xd8\xff"
    lent = shown[file_title(catalogue.lent)]
    assert link(lent, BORROW)["type"] == "application/epub+zip"
    assert link(lent, "alternate")["href"] == (
        f"http://testserver/catalog/record/{catalogue.lent.record_id}/"
    )


def test_by_subject_and_by_library(client, catalogue):
    record = catalogue.moby.record
    record.subjects = "Cá voi\nBiển cả"
    record.save()
    root = feed_of(client.get("/opds/"))
    subjects = feed_of(fetch(client, link(root.entries[1], "subsection")["href"]), NAVIGATION)
    titles = [entry.title for entry in subjects.entries]
    assert titles[:2] == ["Biển cả", "Cá voi"]
    whales = next(entry for entry in subjects.entries if entry.title == "Cá voi")
    assert whales.content[0].value == "1 titles"
    books_on = all_titles(client, link(whales, "subsection")["href"])
    assert books_on == [record.title]

    libraries = feed_of(fetch(client, link(root.entries[2], "subsection")["href"]), NAVIGATION)
    assert [entry.title for entry in libraries.entries] == ["Thư viện huyện Hòa Bình"]
    held = all_titles(client, link(libraries.entries[0], "subsection")["href"])
    assert sorted(held) == sorted(
        file_title(f) for f in (catalogue.moby, catalogue.guide, catalogue.lent)
    )


def test_acquisition_feeds_are_paginated(client, catalogue, monkeypatch):
    monkeypatch.setattr(opds, "PAGE_SIZE", 2)
    first = feed_of(client.get("/opds/new/"), ACQUISITION)
    assert len(first.entries) == 2
    assert first.feed.opensearch_totalresults == "3"
    rels = {item["rel"]: path_of(item["href"]) for item in first.feed.links}
    assert rels["first"] == "/opds/new/?page=1"
    assert rels["next"] == "/opds/new/?page=2"
    assert rels["last"] == "/opds/new/?page=2"
    assert "previous" not in rels
    second = feed_of(client.get(rels["next"]), ACQUISITION)
    second_rels = {item["rel"]: path_of(item["href"]) for item in second.feed.links}
    assert second_rels["previous"] == "/opds/new/?page=1"
    assert "next" not in second_rels
    titles = [e.title for e in first.entries] + [e.title for e in second.entries]
    assert len(set(titles)) == 3


def test_search_through_the_opensearch_description_without_accents(client, catalogue):
    root = feed_of(client.get("/opds/"))
    description = client.get(path_of(link(root.feed, "search")["href"]))
    assert description["Content-Type"] == "application/opensearchdescription+xml;charset=utf-8"
    document = etree.fromstring(description.content)
    url = document.find("{http://a9.com/-/spec/opensearch/1.1/}Url")
    assert url.get("type") == ACQUISITION
    template = url.get("template")
    assert template == "http://testserver/opds/search/?q={searchTerms}"
    found = all_titles(client, template.replace("{searchTerms}", "so tay thu vien"))
    assert found == ["Sổ tay thư viện số"]
    assert all_titles(client, template.replace("{searchTerms}", "MELVILLE")) == [
        file_title(catalogue.moby)
    ]
    # A book for members is not found by visitors, even by its title.
    title = file_title(catalogue.members)
    query = template.replace("{searchTerms}", urlencode({"x": title})[2:])
    assert title and all_titles(client, query) == []


# --------------------------------------------------------------------------- logging in


def test_a_reader_borrows_a_lent_book_with_basic_auth(catalogue, tree):
    reader = verified(reader_of(tree.own))
    app = Client()
    borrow_href = link(
        next(
            entry
            for entry in feed_of(app.get("/opds/new/")).entries
            if entry.title == file_title(catalogue.lent)
        ),
        BORROW,
    )["href"]
    # Without credentials: 401, the way to log in, the Authentication Document.
    refused = app.get(path_of(borrow_href))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Basic realm="Knowledge Bridge", charset="UTF-8"'
    assert refused["Content-Type"] == "application/opds-authentication+json"
    assert DigitalLoan.objects.count() == 0

    borrowed = app.get(path_of(borrow_href), **basic(reader.user), follow=True)
    assert borrowed.status_code == 200
    assert b"".join(borrowed.streaming_content) == books.CHILDREN.read_bytes()
    loan = DigitalLoan.objects.get()
    assert (loan.file, loan.patron, loan.returned_at) == (catalogue.lent, reader, None)
    again = app.get(path_of(borrow_href), **basic(reader.user))
    assert again.status_code == 302
    assert DigitalLoan.objects.count() == 1
    # The feed now offers the reader's copy to download, not to borrow.
    mine = feed_of(app.get("/opds/new/", **basic(reader.user)))
    entry = next(e for e in mine.entries if e.title == file_title(catalogue.lent))
    assert link(entry, ACQUIRE)["href"].endswith(f"/opds/files/{catalogue.lent.pk}/download/")
    # No session: nothing of a login is kept in a cookie.
    for response in (borrowed, again):
        assert not response.cookies
    assert app.cookies == {} or "sessionid" not in app.cookies


def test_the_last_licence_is_not_lent_twice_over_opds(catalogue, tree):
    first = verified(reader_of(tree.own))
    second = verified(reader_of(tree.own))
    path = f"/opds/files/{catalogue.lent.pk}/borrow/"
    assert Client().get(path, **basic(first.user)).status_code == 302
    refused = Client().get(path, **basic(second.user))
    assert refused.status_code == 409
    assert "All 1 licences are on loan" in refused.content.decode()
    assert list(DigitalLoan.objects.values_list("patron", flat=True)) == [first.pk]


def test_members_and_card_holders_books_are_listed_only_to_their_readers(catalogue, tree):
    CirculationRule.objects.all().delete()
    CirculationRule.objects.create(item_type=DIGITAL_ITEM_TYPE, loan_days=7, max_loans=2)
    sibling_lent = add_book(tree.sibling, books.MOBY, access=DigitalFile.Access.LENDING)
    member = verified(reader_of(tree.own))
    card_holder = verified(reader_of(tree.cousin))  # THPTC is below DDA, the chosen library
    child = verified(reader_of(tree.own, category=Patron.Category.CHILD))

    def titles(patron=None):
        extra = basic(patron.user) if patron else {}
        return set(all_titles(Client(), "/opds/new/", **extra))

    everyone = {file_title(f) for f in (catalogue.moby, catalogue.guide, catalogue.lent)}
    assert titles() == everyone | {file_title(sibling_lent)}
    # A member of the network reads the members' book; not the card holders' one.
    assert titles(member) == everyone | {
        file_title(catalogue.members),
        file_title(sibling_lent),  # the network-wide rule lets visiting adults borrow
    }
    assert titles(card_holder) == everyone | {
        file_title(catalogue.members),
        file_title(catalogue.cardholders),
        file_title(sibling_lent),
    }
    # A child never borrows another library's books: that book is not offered to them.
    assert titles(child) == everyone | {file_title(catalogue.members)}
    # Nor found by search, nor by library, nor its cover, nor downloaded.
    search = set(all_titles(Client(), "/opds/search/?q=basic+quiz", **basic(member.user)))
    assert file_title(catalogue.cardholders) not in search
    held = set(all_titles(Client(), "/opds/libraries/HBT/", **basic(member.user)))
    assert file_title(catalogue.cardholders) not in held
    refused = Client().get(
        f"/opds/files/{catalogue.cardholders.pk}/download/", **basic(member.user)
    )
    assert refused.status_code == 403
    anonymous = Client().get(f"/opds/files/{catalogue.members.pk}/download/")
    assert anonymous.status_code == 401
    if catalogue.members.cover_id:
        assert Client().get(f"/opds/files/{catalogue.members.pk}/cover/").status_code == 404
    got = Client().get(f"/opds/files/{catalogue.cardholders.pk}/download/", follow=True,
                       **basic(card_holder.user))  # fmt: skip
    assert b"".join(got.streaming_content) == books.QUIZ.read_bytes()


def test_a_wrong_password_is_refused_and_counted_in_the_login_limits(catalogue, tree):
    reader = verified(reader_of(tree.own))
    path = f"/opds/files/{catalogue.members.pk}/download/"
    for _attempt in range(5):
        wrong = Client().get(path, **basic(reader.user, "doan-mo"))
        assert wrong.status_code == 401
        assert wrong["WWW-Authenticate"].startswith("Basic ")
        assert not wrong.cookies
    locked = Client().get(path, **basic(reader.user))
    assert locked.status_code == 429
    # The same count as the website's login form: that is locked too.
    form = Client()
    response = form.post("/accounts/login/", {"login": reader.user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in form.session
    # A feed asked with wrong credentials is refused, not served as to a visitor.
    assert Client().get("/opds/new/", **basic(reader.user, "doan-mo")).status_code in (401, 429)


def test_a_right_password_is_remembered_without_a_session(catalogue, tree):
    reader = verified(reader_of(tree.own))
    app = Client()
    first = app.get("/opds/new/", **basic(reader.user))
    second = app.get("/opds/new/", **basic(reader.user))
    assert first.status_code == second.status_code == 200
    assert not first.cookies and not second.cookies
    assert "Authorization" in first["Vary"]
    # A changed password ends the remembered check at once.
    reader.user.set_password("mat-khau-moi-2026")
    reader.user.save()
    assert app.get("/opds/new/", **basic(reader.user)).status_code == 401
    assert app.get("/opds/new/", **basic(reader.user, "mat-khau-moi-2026")).status_code == 200


def test_an_unverified_or_inactive_account_cannot_log_in(catalogue, tree):
    unverified = reader_of(tree.own)
    assert Client().get("/opds/new/", **basic(unverified.user)).status_code == 401
    inactive = verified(reader_of(tree.own))
    inactive.user.is_active = False
    inactive.user.save()
    assert Client().get("/opds/new/", **basic(inactive.user)).status_code == 401


def test_another_sites_page_cannot_make_a_browser_borrow(catalogue, tree):
    reader = verified(reader_of(tree.own))
    refused = Client().get(
        f"/opds/files/{catalogue.lent.pk}/borrow/",
        HTTP_SEC_FETCH_SITE="cross-site",
        **basic(reader.user),
    )
    assert refused.status_code == 403
    assert DigitalLoan.objects.count() == 0


# --------------------------------------------------------------------------- documents


def _schema_files() -> dict[str, dict]:
    return {
        (schema := json.loads(path.read_text()))["$id"]: schema
        for path in SCHEMAS.glob("*.schema.json")
    }


def test_the_authentication_document_follows_its_schema(client, catalogue):
    response = client.get("/opds/auth/")
    assert response["Content-Type"] == "application/opds-authentication+json"
    document = json.loads(response.content)
    schemas = _schema_files()

    def retrieve(uri: str) -> dict:
        return schemas[uri]

    validator = jsonschema_rs.validator_for(
        schemas["https://drafts.opds.io/schema/authentication.schema.json"], retriever=retrieve
    )
    errors = [error.message for error in validator.iter_errors(document)]
    assert errors == []
    assert document["authentication"] == [
        {
            "type": "http://opds-spec.org/auth/basic",
            "labels": {"login": "Username or email", "password": "Password"},
        }
    ]
    assert document["id"] == "http://testserver/opds/auth/"
    root = feed_of(client.get("/opds/"))
    assert link(root.feed, "http://opds-spec.org/auth/document")["href"] == document["id"]
    # The schema does catch a document without its authentication flows.
    assert not validator.is_valid({"id": document["id"], "title": "x"})
