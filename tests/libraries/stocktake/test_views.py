import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from libraries.stocktake import services as inventory
from tests.libraries.catalog.factories import ItemFactory
from tests.pdf_text import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://x","y")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCANNED = '=HYPERLINK("HTTP://X","Y")'  # as the scanner service keeps it: upper case


@pytest.fixture
def stocktake(network):
    ItemFactory(
        library=network.a,
        barcode="THCSA00001",
        call_number="895.922 Đ108",
        record__title="Nguyễn Thị Hồng Đào: Dế Mèn phiêu lưu ký",
    )
    stocktake = inventory.start_stocktake(library=network.a, by=network.librarian_a)
    inventory.record_scans(
        stocktake_id=stocktake.pk, barcodes=["THCSA00001", HYPERLINK], by=network.librarian_a
    )
    return stocktake


def export(client, stocktake, fmt):
    return client.get(reverse("libraries:stocktake_export", args=[stocktake.pk, fmt]))


def download(client, network, stocktake, fmt, content_type):
    """School A's librarian downloads the report as `fmt`: served as `content_type`, as an
    attachment named after the library and the stocktake."""
    client.force_login(network.librarian_a)
    response = export(client, stocktake, fmt)
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="stocktake-THCSA-{stocktake.pk}.{fmt}"'
    )
    return response


def test_csv_export_quotes_a_formula_scanned_as_a_barcode(client, network, stocktake):
    response = download(client, network, stocktake, "csv", "text/csv; charset=utf-8")
    assert response.content.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == [
        ["Section", "Barcode", "Title", "Call number", "Owner", "Shelf", "Status"],
        [
            "Found",
            "THCSA00001",
            "Nguyễn Thị Hồng Đào: Dế Mèn phiêu lưu ký",
            "895.922 Đ108",
            "THCSA",
            "",
            "Available",
        ],
        ["Unknown barcode", "'" + SCANNED, "", "", "", "", ""],
    ]


def test_xlsx_export_keeps_a_scanned_formula_as_text(client, network, stocktake):
    response = download(client, network, stocktake, "xlsx", XLSX)
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.title == "Stocktake"
    assert [c.value for c in sheet[3]] == [
        "Unknown barcode",
        "'" + SCANNED,
        *[None] * 5,
    ]
    assert sheet["B3"].data_type == "s"
    assert [c.value for c in sheet[2]][:3] == [
        "Found",
        "THCSA00001",
        "Nguyễn Thị Hồng Đào: Dế Mèn phiêu lưu ký",
    ]
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_pdf_report_prints_library_and_titles_in_vietnamese_letters(client, network, stocktake):
    response = download(client, network, stocktake, "pdf", "application/pdf")
    # One line per table cell; narrow cells wrap.
    assert pdf_text(response.content).splitlines() == [
        "Stocktake report · Thư viện THCS A",
        "expected 1, found 1, missing 0, misplaced 0, unknown 1, wrong status 0",
        *["Section", "Barcode", "Title", "Call number", "Owner", "Shelf", "Status"],
        *["Found", "THCSA00001", "Nguyễn Thị Hồng Đào: Dế Mèn phiêu lưu ký"],
        *["895.922 Đ108", "THCSA", "Available"],
        *["Unknown", "barcode", '=HYPERLINK("HT', 'TP://X","Y")'],
    ]
    assert pdf_fonts(response.content) == {"DejaVuSans", "DejaVuSans-Bold"}


def test_export_refuses_other_formats_and_other_schools(client, network, stocktake):
    client.force_login(network.librarian_a)
    assert export(client, stocktake, "json").status_code == 404
    client.force_login(network.librarian_b)
    assert export(client, stocktake, "csv").status_code in (403, 404)
