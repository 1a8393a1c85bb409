"""Stocktaking one shelf (libraries/stocktake with Shelf): what is expected, a copy from
another shelf reported as misplaced with its home shelf, on the page and in every export."""

import csv
import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from libraries.models import Item, Shelf, Stocktake
from libraries.stocktake import services as inventory
from libraries.stocktake.services import StocktakeError
from tests.libraries.catalog.factories import ItemFactory
from tests.pdf_text import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelves(network):
    """School A's shelves A1 (two copies) and B2 (one), a copy on no shelf, a copy of B's."""
    a1 = Shelf.objects.create(library=network.a, code="A1", name="Truyện thiếu nhi")
    b2 = Shelf.objects.create(library=network.a, code="B2", name="Sách giáo khoa")
    theirs = Shelf.objects.create(library=network.b, code="A1")
    items = {
        "a1_seen": ItemFactory(library=network.a, barcode="THCSA00001", shelf=a1),
        "a1_unseen": ItemFactory(library=network.a, barcode="THCSA00002", shelf=a1),
        "from_b2": ItemFactory(library=network.a, barcode="THCSA00003", shelf=b2),
        "no_shelf": ItemFactory(library=network.a, barcode="THCSA00004"),
        "other_school": ItemFactory(library=network.b, barcode="THCSB00001", shelf=theirs),
    }

    class Shelves:
        pass

    found = Shelves()
    found.a1, found.b2, found.theirs, found.items = a1, b2, theirs, items
    return found


def test_a_shelf_stocktake_reports_the_copy_of_another_shelf_as_misplaced(network, shelves):
    stocktake = inventory.start_stocktake(
        library=network.a, shelf=shelves.a1, by=network.librarian_a
    )
    assert {i.barcode for i in stocktake.expected_items()} == {"THCSA00001", "THCSA00002"}
    scans = inventory.record_scans(
        stocktake_id=stocktake.pk,
        barcodes=["THCSA00001", "THCSA00003", "THCSA00004", "THCSB00001", "NOPE"],
        by=network.librarian_a,
    )
    assert [(s.barcode, s.result) for s in scans] == [
        ("THCSA00001", "found"),
        ("THCSA00003", "misplaced"),
        ("THCSA00004", "misplaced"),
        ("THCSB00001", "misplaced"),
        ("NOPE", "unknown"),
    ]
    assert [inventory.scan_label(s) for s in scans[1:4]] == [
        "Misplaced · belongs on THCSA · B2",
        "Misplaced · belongs on THCSA",
        "Misplaced · belongs on THCSB · A1",
    ]
    report = inventory.report(stocktake)
    assert [i.barcode for i in report.found] == ["THCSA00001"]
    assert [i.barcode for i in report.missing] == ["THCSA00002"]
    assert [i.barcode for i in report.misplaced] == ["THCSA00003", "THCSA00004", "THCSB00001"]
    assert report.counts["expected"] == 2
    rows = {row[1]: row for row in report.rows()}
    assert rows["THCSA00003"][0] == "Misplaced" and rows["THCSA00003"][5] == "B2"
    assert rows["THCSA00002"][0] == "Missing" and rows["THCSA00002"][5] == "A1"
    # Scanning changed no item.
    assert set(Item.objects.values_list("status", flat=True)) == {"available"}


def test_closing_a_shelf_stocktake_marks_only_that_shelf_missing(network, shelves):
    stocktake = inventory.start_stocktake(
        library=network.a, shelf=shelves.a1, by=network.librarian_a
    )
    inventory.record_scans(
        stocktake_id=stocktake.pk, barcodes=["THCSA00001", "THCSA00003"], by=network.librarian_a
    )
    closed = inventory.close_stocktake(
        stocktake_id=stocktake.pk, by=network.librarian_a, mark_missing=True
    )
    assert closed.missing_marked == 1
    assert list(Item.objects.filter(status="missing").values_list("barcode", flat=True)) == [
        "THCSA00002"
    ]


def test_one_open_stocktake_per_shelf_beside_a_whole_library_one(network, shelves):
    by = network.librarian_a
    inventory.start_stocktake(library=network.a, by=by)
    inventory.start_stocktake(library=network.a, shelf=shelves.a1, by=by)
    inventory.start_stocktake(library=network.a, shelf=shelves.b2, by=by)
    with pytest.raises(StocktakeError) as twice:
        inventory.start_stocktake(library=network.a, shelf=shelves.a1, by=by)
    assert twice.value.code == "open"
    assert Stocktake.objects.count() == 3


def test_a_shelf_of_another_library_or_with_a_prefix_is_refused(network, shelves):
    by = network.admin  # reaches both schools
    for kwargs in (
        {"library": network.a, "shelf": shelves.theirs},
        {"library": network.a, "shelf": shelves.a1, "call_number_prefix": "895"},
    ):
        with pytest.raises(StocktakeError) as refused:
            inventory.start_stocktake(by=by, **kwargs)
        assert refused.value.code == "shelf"
    assert not Stocktake.objects.exists()


def test_shelf_stocktake_over_http_with_exports(client, network, shelves):
    client.force_login(network.librarian_a)
    form = client.get(reverse("libraries:stocktake_list")).context["form"]
    # School A's librarian is offered school A's shelves only.
    assert set(form.fields["shelf"].queryset) == {shelves.a1, shelves.b2}
    response = client.post(
        reverse("libraries:stocktake_list"),
        {"library": network.a.pk, "shelf": shelves.a1.pk, "call_number_prefix": ""},
    )
    stocktake = Stocktake.objects.get()
    assert stocktake.shelf == shelves.a1
    assert response["Location"] == reverse("libraries:stocktake_detail", args=[stocktake.pk])
    answer = client.post(
        reverse("libraries:stocktake_scan", args=[stocktake.pk]),
        json.dumps({"barcodes": ["THCSA00001", "THCSA00003"]}),
        content_type="application/json",
        headers={"Accept": "application/json"},
    ).json()
    assert [(s["result"], s["home"]) for s in answer["new"]] == [
        ("found", ""),
        ("misplaced", "THCSA · B2"),
    ]
    assert answer["counts"]["expected"] == 2 and answer["counts"]["not_yet_seen"] == 1
    page = client.get(reverse("libraries:stocktake_report", args=[stocktake.pk]))
    assert "belongs on THCSA · B2" in " ".join(page.content.decode().split())

    exported = client.get(reverse("libraries:stocktake_export", args=[stocktake.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["Section", "Barcode", "Title", "Call number", "Owner", "Shelf", "Status"]
    misplaced = next(row for row in rows if row[1] == "THCSA00003")
    assert (misplaced[0], misplaced[4], misplaced[5]) == ("Misplaced", "THCSA", "B2")
    sheet = load_workbook(
        io.BytesIO(
            client.get(reverse("libraries:stocktake_export", args=[stocktake.pk, "xlsx"])).content
        )
    ).active
    assert [c.value for c in sheet[1]][5] == "Shelf"
    pdf = client.get(reverse("libraries:stocktake_export", args=[stocktake.pk, "pdf"])).content
    assert "THCSA00003" in pdf_text(pdf) and "B2" in pdf_text(pdf)


def test_a_forged_shelf_of_another_school_starts_nothing(client, network, shelves):
    client.force_login(network.librarian_a)
    response = client.post(
        reverse("libraries:stocktake_list"),
        {"library": network.a.pk, "shelf": shelves.theirs.pk, "call_number_prefix": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["shelf"]
    assert not Stocktake.objects.exists()
