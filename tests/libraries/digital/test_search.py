"""The catalog finds words inside digital files (a second step on their own table) and shows a
short passage of open-access books; the record search itself is unchanged."""

import pytest
from django.urls import reverse

from libraries.catalog.search import Query, body_snippets, search_records
from libraries.models import DigitalFile
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book


def titles(text, **filters):
    return [r.title for r in search_records(Query(text=text, **filters))]


@pytest.fixture
def shelf(tree):
    moby = add_book(tree.own, books.MOBY, licences=2)
    guide = add_book(
        tree.own,
        books.text_pdf("Sổ tay bạn đọc", ["Người đọc mượn sách điện tử bằng thẻ thư viện."]),
        access=DigitalFile.Access.OPEN,
    )
    whale = RecordFactory(title="Cá voi trắng", authors="Nguyễn Văn Biển")
    return moby, guide, whale


def test_words_inside_a_book_find_its_record(shelf):
    moby, guide, _whale = shelf
    assert titles("harpooneer") == ["Moby-Dick"]
    assert titles("Ishmael Queequeg") == ["Moby-Dick"]
    assert titles("muon sach dien tu") == ["Sổ tay bạn đọc"]  # without accents
    assert titles("harpooneer xyzzy") == []  # every word is needed
    assert titles("harpooneer", field="title") == []  # only "all fields" looks inside books


def test_records_described_by_the_words_rank_before_books_that_only_contain_them(shelf, tree):
    described = RecordFactory(title="Whale and harpooneer stories")
    ItemFactory(record=described, library=tree.own)
    assert titles("harpooneer") == ["Whale and harpooneer stories", "Moby-Dick"]


def test_the_other_filters_apply_to_books_found_by_their_words(shelf):
    assert titles("harpooneer", language="vie") == []
    assert titles("harpooneer", language="eng") == ["Moby-Dick"]


def test_open_books_show_a_passage_lending_books_none(shelf):
    moby, guide, _whale = shelf
    snippets = body_snippets([moby.record_id, guide.record_id], "dien tu")
    assert set(snippets) == {guide.record_id}
    passage = snippets[guide.record_id]
    assert passage["match"] == "điện"
    assert passage["before"].endswith("mượn sách ")
    assert passage["after"].startswith(" tử bằng thẻ")


def test_the_result_page_shows_the_passage_and_the_digital_copies(client, shelf):
    _moby, guide, _whale = shelf
    page = client.get(reverse("libraries:catalog_search"), {"q": "the thu vien"}).content.decode()
    assert "Sổ tay bạn đọc" in page
    assert "<mark>thẻ</mark>" in page
    assert "PDF document · Open to everyone" in page
    page = client.get(reverse("libraries:catalog_search"), {"q": "harpooneer"}).content.decode()
    assert "Moby-Dick" in page and "<mark>" not in page
    assert "EPUB e-book · Lending with licences" in page


def test_a_passage_is_found_with_or_without_accents_and_in_other_scripts(tree):
    arabic = add_book(tree.own, books.ARABIC, access=DigitalFile.Access.OPEN)
    snippets = body_snippets([arabic.record_id], "السرطان")
    assert snippets[arabic.record_id]["match"].startswith("السرطان")
    assert titles("السرطان") == ["Le Vrai Régime anti-cancer"]
