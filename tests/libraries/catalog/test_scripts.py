"""Records in any script keep their identity and their words (folding never drops letters)."""

import io
from importlib import import_module

import pytest
from django.apps import apps

from libraries.catalog.marc import import_marc
from libraries.catalog.search import Query, search_records
from libraries.models import Record
from tests.factories import LibraryFactory
from tests.libraries.catalog.marc_builders import build, to_bytes

pytestmark = pytest.mark.django_db

# Two distinct books per script, same author, publisher and year, no ISBN and no 001: only
# the title tells them apart. The last word is searched for.
BOOKS = {
    "devanagari": ("कविता संग्रह", "कहानी संग्रह", "कहानी", "प्रेमचंद", "राजकमल"),
    "cyrillic": ("Война и мир", "Анна Каренина", "Каренина", "Толстой Лев", "Просвещение"),
    "arabic": ("ألف ليلة وليلة", "كليلة ودمنة", "ودمنة", "ابن المقفع", "دار المعارف"),
    "hebrew": ("ספר הדקדוק", "ספר השירים", "השירים", "ביאליק", "דביר"),
    "thai": ("นิทานพื้นบ้าน", "วรรณคดีไทย", "วรรณคดีไทย", "สุนทรภู่", "ศึกษาภัณฑ์"),
    "cjk": ("論語", "孟子", "孟子", "孔子", "中華書局"),
}


def marc_file() -> bytes:
    records = []
    for first, second, _word, author, publisher in BOOKS.values():
        for title in (first, second):
            records.append(build(title=title, author=author, publisher=publisher, year="2001"))
    return to_bytes(*records)


def test_distinct_titles_in_every_script_stay_distinct_and_a_reimport_adds_nothing():
    library = LibraryFactory(code="TVT")
    first = import_marc(io.BytesIO(marc_file()), library=library)
    assert (first.created, first.updated, first.failed) == (12, 0, 0)
    titles = sorted(Record.objects.values_list("title", flat=True))
    assert titles == sorted(t for first, second, *_ in BOOKS.values() for t in (first, second))
    prints = list(Record.objects.values_list("fingerprint", flat=True))
    assert all(prints) and len(set(prints)) == 12
    again = import_marc(io.BytesIO(marc_file()), library=library)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 12, 0)
    assert Record.objects.count() == 12


@pytest.mark.parametrize("script", sorted(BOOKS))
def test_words_in_every_script_find_their_record(script):
    import_marc(io.BytesIO(marc_file()), library=LibraryFactory(code="TVT"))
    first, second, word, author, _publisher = BOOKS[script]
    assert [r.title for r in search_records(Query(text=word))] == [second]
    assert sorted(r.title for r in search_records(Query(text=author, field="author"))) == sorted(
        [first, second]
    )


def test_a_title_with_no_word_never_matches_another():
    library = LibraryFactory(code="TVT")
    records = [build(title="???", author="Khuyết danh", year="2001") for _ in range(2)]
    result = import_marc(io.BytesIO(to_bytes(*records)), library=library)
    assert (result.created, result.failed) == (2, 0)
    assert list(Record.objects.values_list("fingerprint", flat=True)) == ["", ""]


def test_the_migration_refreshes_records_saved_with_the_old_folding():
    migration = import_module("libraries.migrations.0007_search_text_keeps_every_script")
    import_marc(io.BytesIO(marc_file()), library=LibraryFactory(code="TVT"))
    latin = Record.objects.create(title="Đất rừng phương Nam", authors="Đoàn Giỏi")
    expected = {r.pk: (r.search_folded, r.fingerprint) for r in Record.objects.all()}
    # As the old folding left them: no words and one shared fingerprint for other scripts.
    Record.objects.exclude(pk=latin.pk).update(search_folded="", title_folded="", fingerprint="x")
    latin_before = Record.objects.filter(pk=latin.pk).values_list("updated_at", flat=True).get()
    migration.refresh_other_scripts(apps, None)
    assert {r.pk: (r.search_folded, r.fingerprint) for r in Record.objects.all()} == expected
    assert Record.objects.filter(pk=latin.pk).values_list("updated_at", flat=True).get() == (
        latin_before
    )
