"""The OAI-PMH provider's holdings (libraries/catalog/oai.py): each copy as a Koha 952 in
marc21, and datestamps that move when copies change (catalog/services.py), so incremental
harvesters see holdings. Every answer is validated against the shipped schemas."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from libraries.catalog.services import add_items, save_item
from libraries.models import Item, Record
from tests.factories import LibraryFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.catalog.test_oai import NS, error_of, ident, ids_of, oai

pytestmark = pytest.mark.usefixtures("english")


def holdings(root) -> list[list[tuple[str, str]]]:
    return [
        [(s.get("code"), s.text) for s in f.findall("m:subfield", NS)]
        for f in root.findall(".//m:datafield[@tag='952']", NS)
    ]


def test_marc21_carries_every_active_librarys_copies_as_koha_952(client, tree):
    record = RecordFactory(title="Toán 6", call_number="510")
    closed = LibraryFactory(code="DONG", is_active=False)
    copies = [
        ItemFactory(record=record, library=tree.child, barcode="THCSA0000001",
                    call_number="510 TOA", item_type=Item.Type.TEXTBOOK),
        ItemFactory(record=record, library=tree.child, barcode="THCSA0000002",
                    status=Item.Status.WITHDRAWN),
        ItemFactory(record=record, library=tree.child, barcode="THCSA0000003",
                    status=Item.Status.LOST),
        ItemFactory(record=record, library=tree.child, barcode="THCSA0000004",
                    status=Item.Status.MISSING),
        ItemFactory(record=record, library=tree.cousin, barcode="THPTC0000001",
                    status=Item.Status.DAMAGED),
        ItemFactory(record=record, library=tree.cousin, barcode="THPTC0000002",
                    status=Item.Status.IN_PROCESS),
        ItemFactory(record=record, library=tree.cousin, barcode="THPTC0000003",
                    status=Item.Status.ON_LOAN),
    ]  # fmt: skip
    ItemFactory(record=record, library=closed, barcode="DONG0000001")
    root = oai(client, verb="GetRecord", identifier=ident(record.pk), metadataPrefix="marc21")
    n = [str(i.pk) for i in copies]
    assert holdings(root) == [
        [("9", n[0]), ("a", "THCSA"), ("b", "THCSA"), ("o", "510 TOA"), ("p", "THCSA0000001"),
         ("y", "textbook")],
        [("0", "1"), ("9", n[1]), ("a", "THCSA"), ("b", "THCSA"), ("p", "THCSA0000002"),
         ("y", "book")],
        [("1", "1"), ("9", n[2]), ("a", "THCSA"), ("b", "THCSA"), ("p", "THCSA0000003"),
         ("y", "book")],
        [("1", "4"), ("9", n[3]), ("a", "THCSA"), ("b", "THCSA"), ("p", "THCSA0000004"),
         ("y", "book")],
        [("4", "1"), ("9", n[4]), ("a", "THPTC"), ("b", "THPTC"), ("p", "THPTC0000001"),
         ("y", "book")],
        [("7", "-1"), ("9", n[5]), ("a", "THPTC"), ("b", "THPTC"), ("p", "THPTC0000002"),
         ("y", "book")],
        [("9", n[6]), ("a", "THPTC"), ("b", "THPTC"), ("p", "THPTC0000003"), ("y", "book")],
    ]  # fmt: skip
    # ListRecords carries the same fields, with one query for the page's copies.
    listed = oai(client, verb="ListRecords", metadataPrefix="marc21")
    assert holdings(listed) == holdings(root)
    # oai_dc and headers carry no copies.
    dc = oai(client, verb="GetRecord", identifier=ident(record.pk), metadataPrefix="oai_dc")
    assert holdings(dc) == []


def test_a_record_without_copies_has_no_952(client, tree):
    record = RecordFactory(title="Chưa có bản")
    root = oai(client, verb="GetRecord", identifier=ident(record.pk), metadataPrefix="marc21")
    assert holdings(root) == []


def _age(record: Record, days: int = 10) -> str:
    """Make the record's datestamp old; returns a `from` between then and now."""
    old = timezone.now() - datetime.timedelta(days=days)
    Record.objects.filter(pk=record.pk).update(updated_at=old)
    return (old + datetime.timedelta(days=1)).astimezone(datetime.UTC).strftime("%Y-%m-%d")


def _changed_since(client, since: str) -> list[str]:
    root = oai(client, verb="ListIdentifiers", metadataPrefix="marc21", **{"from": since})
    if root.find("o:error", NS) is not None:
        assert error_of(root)[0] == "noRecordsMatch"
        return []
    return ids_of(root)


def test_copy_changes_move_the_datestamp(client, tree):
    record = RecordFactory(title="Dế Mèn phiêu lưu ký")
    other = RecordFactory(title="Tuyển tập Nam Cao")
    item = ItemFactory(record=record, library=tree.child, barcode="THCSA0000009")
    since = _age(record)
    _age(other)
    assert _changed_since(client, since) == []

    item.status = Item.Status.WITHDRAWN
    save_item(item)  # a copy withdrawn at the staff screen
    assert _changed_since(client, since) == [ident(record.pk)]

    since = _age(record)
    add_items(record=record, library=tree.child, count=1)  # a copy added
    assert _changed_since(client, since) == [ident(record.pk)]

    since = _age(record)
    _age(other)
    item.record = other  # a copy moved to another record: both change
    save_item(item)
    assert sorted(_changed_since(client, since)) == sorted([ident(record.pk), ident(other.pk)])


def test_a_marc21_page_costs_the_same_queries_whatever_its_records(client, tree):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            oai(client, verb="ListRecords", metadataPrefix="marc21")
        return len(queries)

    for n in range(3):
        ItemFactory(record=RecordFactory(), library=tree.child, barcode=f"THCSA00001{n}")
    few = page_queries()
    for n in range(9):
        ItemFactory(record=RecordFactory(), library=tree.cousin, barcode=f"THPTC00001{n}")
    assert page_queries() == few
