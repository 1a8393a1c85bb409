"""A MARC import that changes a record's copies moves its OAI-PMH datestamp
(libraries/catalog/marc.py calls catalog/services.py touch_records): a harvester asking
ListRecords from= the moment before the import receives the record."""

import io

import pytest
from django.urls import reverse

from libraries.catalog.marc import import_marc
from libraries.models import Item, Record, Role
from tests.factories import member
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.catalog.marc_builders import build, to_bytes
from tests.libraries.catalog.oai_since import age_all, listed_since
from tests.libraries.catalog.test_oai import ident

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def run(library, *records):
    return import_marc(io.BytesIO(to_bytes(*records)), library=library)


def test_a_copy_added_by_import_to_an_unchanged_record_moves_its_datestamp(client, tree):
    """Another library imports the same record with its own copy: the record's description
    is unchanged, its holdings are not."""
    book = build(title="Dế Mèn phiêu lưu ký", isbn="9786042000011", holdings=[("", "895.9")])
    run(tree.child, book)
    run(tree.child, build(title="Tuyển tập Nam Cao", isbn="9786042000028"))
    record = Record.objects.get(title="Dế Mèn phiêu lưu ký")
    since = age_all()
    assert listed_since(client, since) == []

    result = run(tree.cousin, book)

    assert (result.unchanged, result.items_created) == (1, 1)
    assert Item.objects.filter(record=record, library=tree.cousin).count() == 1
    assert listed_since(client, since) == [ident(record.pk)]


def test_a_copy_moved_by_import_moves_both_records(client, tree):
    first = build(title="Toán 6", isbn="9786040000011", holdings=[("THCSA0000100", "510")])
    run(tree.child, first, build(title="Ngữ văn 6", isbn="9786040000028"))
    toan, van = Record.objects.get(title="Toán 6"), Record.objects.get(title="Ngữ văn 6")
    since = age_all()

    moved = build(title="Ngữ văn 6", isbn="9786040000028", holdings=[("THCSA0000100", "807")])
    result = run(tree.child, moved)

    assert result.items_updated == 1
    assert Item.objects.get(barcode="THCSA0000100").record == van
    assert sorted(listed_since(client, since)) == sorted([ident(toan.pk), ident(van.pk)])


def test_an_import_that_changes_nothing_moves_nothing(client, tree):
    book = build(title="Truyện Kiều", isbn="9786042000035", holdings=[("THCSA0000200", "895.9")])
    run(tree.child, book)
    since = age_all()
    before = list(Record.objects.values_list("pk", "updated_at"))

    result = run(tree.child, book)

    assert (result.unchanged, result.items_created, result.items_updated) == (1, 0, 0)
    assert list(Record.objects.values_list("pk", "updated_at")) == before
    assert listed_since(client, since) == []


def test_an_item_deleted_in_the_staff_area_moves_its_records_datestamp(client, tree):
    run(tree.child, build(title="Dế Mèn phiêu lưu ký", isbn="9786042000011"))
    record = Record.objects.get()
    item = ItemFactory(record=record, library=tree.child)
    since = age_all()
    assert listed_since(client, since) == []

    client.force_login(member(tree.child, Role.LIBRARY_ADMIN))
    response = client.post(reverse("catalog_items:delete", args=[item.pk]))

    assert response.status_code == 302
    assert not Item.objects.filter(pk=item.pk).exists()
    client.logout()
    assert listed_since(client, since) == [ident(record.pk)]
