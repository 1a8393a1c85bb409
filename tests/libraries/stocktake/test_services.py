import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from libraries.models import Item, Loan, Stocktake
from libraries.stocktake import services as inventory
from libraries.stocktake.services import StocktakeError
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory, lend

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(network):
    """Four items on shelf 8xx at school A, one lent, one at school B, one on shelf 5xx."""
    items = {
        name: ItemFactory(library=network.a, barcode=f"THCSA{n:05d}", call_number=f"895.9 {name}")
        for n, name in enumerate(["seen", "unseen", "lent", "damaged"])
    }
    items["damaged"].status = Item.Status.DAMAGED
    items["damaged"].save()
    items["other_shelf"] = ItemFactory(library=network.a, barcode="THCSA09999", call_number="510 T")
    items["theirs"] = ItemFactory(library=network.b, barcode="THCSB00001", call_number="895.9 X")
    patron = PatronFactory(home_library=network.a)
    lend(items["lent"], patron, by=network.librarian_a)
    return items


def test_stocktake_report_classifies_every_scan(network, shelf):
    stocktake = inventory.start_stocktake(
        library=network.a, by=network.librarian_a, call_number_prefix="895"
    )
    with pytest.raises(StocktakeError):
        inventory.start_stocktake(
            library=network.a, by=network.librarian_a, call_number_prefix="895"
        )
    scans = inventory.record_scans(
        stocktake_id=stocktake.pk,
        barcodes=["thcsa00000", "THCSA00000", "THCSB00001", "THCSA09999", "THCSA00002", "ZZZ1", ""],
        by=network.librarian_a,
    )
    assert [s.barcode for s in scans] == [
        "THCSA00000",
        "THCSB00001",
        "THCSA09999",
        "THCSA00002",
        "ZZZ1",
    ]
    again = inventory.record_scans(
        stocktake_id=stocktake.pk, barcodes=["THCSA00000"], by=network.librarian_a
    )
    assert again == []
    report = inventory.report(stocktake)
    assert [i.barcode for i in report.found] == ["THCSA00000"]
    assert {i.barcode for i in report.misplaced} == {"THCSB00001", "THCSA09999"}
    assert [i.barcode for i in report.wrong_status] == ["THCSA00002"]
    assert report.unknown == ["ZZZ1"]
    assert {i.barcode for i in report.missing} == {"THCSA00001", "THCSA00003"}
    assert report.counts["expected"] == 4
    # Scanning never changes loans or statuses.
    assert Loan.objects.get().returned_at is None
    assert Item.objects.get(barcode="THCSA00002").status == Item.Status.ON_LOAN


def test_closing_marks_missing_only_when_confirmed(network, shelf):
    stocktake = inventory.start_stocktake(library=network.a, by=network.librarian_a)
    inventory.record_scans(
        stocktake_id=stocktake.pk, barcodes=["THCSA00000"], by=network.librarian_a
    )
    closed = inventory.close_stocktake(
        stocktake_id=stocktake.pk, by=network.librarian_a, mark_missing=False
    )
    assert closed.missing_marked == 0
    assert not Item.objects.filter(status=Item.Status.MISSING).exists()
    with pytest.raises(StocktakeError):
        inventory.record_scans(stocktake_id=stocktake.pk, barcodes=["X"], by=network.librarian_a)
    second = inventory.start_stocktake(library=network.a, by=network.librarian_a)
    inventory.record_scans(stocktake_id=second.pk, barcodes=["THCSA00000"], by=network.librarian_a)
    closed = inventory.close_stocktake(
        stocktake_id=second.pk, by=network.librarian_a, mark_missing=True
    )
    assert closed.missing_marked == 2
    assert set(
        Item.objects.filter(status=Item.Status.MISSING).values_list("barcode", flat=True)
    ) == {
        "THCSA00001",
        "THCSA09999",
    }
    # The damaged item is not on the shelf for lending either, but only staff change that.
    assert Item.objects.get(barcode="THCSA00003").status == Item.Status.DAMAGED


def test_stocktake_pages_scan_queue_upload_and_exports(client, network, shelf):
    client.force_login(network.librarian_a)
    response = client.post(
        reverse("libraries:stocktake_list"), {"library": network.a.pk, "call_number_prefix": ""}
    )
    stocktake = Stocktake.objects.get()
    assert response["Location"] == reverse("libraries:stocktake_detail", args=[stocktake.pk])
    url = reverse("libraries:stocktake_scan", args=[stocktake.pk])
    answer = client.post(
        url, json.dumps({"barcodes": ["THCSA00000", "NOPE"]}), content_type="application/json"
    ).json()
    assert [s["result"] for s in answer["new"]] == ["found", "unknown"]
    assert answer["counts"]["found"] == 1 and answer["counts"]["unknown"] == 1
    # The page re-sends a batch after a stalled connection: nothing is counted twice.
    replay = client.post(
        url, json.dumps({"barcodes": ["THCSA00000", "NOPE"]}), content_type="application/json"
    ).json()
    assert replay["new"] == [] and replay["counts"]["scanned"] == 2
    upload = SimpleUploadedFile("scanner.txt", b"THCSA00001\r\nTHCSB00001;2026-11-25\n\n")
    client.post(reverse("libraries:stocktake_upload", args=[stocktake.pk]), {"file": upload})
    assert stocktake.scans.count() == 4
    binary = SimpleUploadedFile("photo.txt", b"\x00\x01\x02")
    response = client.post(
        reverse("libraries:stocktake_upload", args=[stocktake.pk]), {"file": binary}, follow=True
    )
    assert "This is not a text file." in response.content.decode()
    exported = client.get(reverse("libraries:stocktake_export", args=[stocktake.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Section", "Barcode"]
    assert ["Unknown barcode", "NOPE", "", "", "", "", ""] in rows
    assert rows[[r[1] for r in rows].index("THCSA09999")][:2] == ["Missing", "THCSA09999"]
    xlsx = client.get(reverse("libraries:stocktake_export", args=[stocktake.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=1, column=2).value == "Barcode"
    pdf = client.get(reverse("libraries:stocktake_export", args=[stocktake.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF")


def test_stocktakes_of_another_school_are_invisible(client, network, shelf):
    stocktake = inventory.start_stocktake(library=network.b, by=network.librarian_b)
    client.force_login(network.librarian_a)
    assert client.get(reverse("libraries:stocktake_detail", args=[stocktake.pk])).status_code == 404
    scan = client.post(
        reverse("libraries:stocktake_scan", args=[stocktake.pk]),
        json.dumps({"barcodes": ["THCSB00001"]}),
        content_type="application/json",
    )
    assert scan.status_code == 404
    refused = client.post(
        reverse("libraries:stocktake_list"), {"library": network.b.pk, "call_number_prefix": ""}
    )
    assert "library" in refused.context["form"].errors
    assert stocktake.scans.count() == 0


def test_inter_library_loan_pages(client, network):
    item = ItemFactory(library=network.a, barcode="THCSA12345")
    client.force_login(network.librarian_b)
    client.post(
        reverse("libraries:ill_list"), {"library": network.b.pk, "item_barcode": "thcsa12345"}
    )
    client.force_login(network.librarian_a)
    page = client.get(reverse("libraries:ill_list"))
    incoming = list(page.context["incoming"])
    assert [i.item for i in incoming] == [item]
    client.post(reverse("libraries:ill_decide", args=[incoming[0].pk]), {"decision": "accept"})
    item.refresh_from_db()
    assert item.status == Item.Status.IN_TRANSIT
