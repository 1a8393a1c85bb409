import csv
import io

import pytest
from django.http import Http404
from openpyxl import load_workbook

from training_site.spreadsheets import safe_cell, spreadsheet_response, to_csv, to_xlsx

HEADER = ["Họ và tên", "Điểm"]
ROWS = [["=1+1", 10], ["Nguyễn Thị Hồng Đào", -3], ["@SUM(A1)", 1.5], ["-2+3", None]]


def test_formula_like_text_is_quoted_and_numbers_are_not():
    assert [safe_cell(v) for v in ("=A1", "+1", "-1", "@x", "\tx", "\rx", "a=b", "", -1, None)] == [
        "'=A1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "a=b",
        "",
        -1,
        None,
    ]


def test_csv_has_a_bom_and_quoted_formulas():
    data = to_csv(HEADER, ROWS)
    assert data.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        ["Họ và tên", "Điểm"],
        ["'=1+1", "10"],
        ["Nguyễn Thị Hồng Đào", "-3"],
        ["'@SUM(A1)", "1.5"],
        ["'-2+3", ""],
    ]


def test_xlsx_keeps_numbers_and_never_writes_a_formula():
    workbook = load_workbook(io.BytesIO(to_xlsx(HEADER, ROWS, "Lớp 6A/2: [sáng]")))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Lớp 6A 2 sáng"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Họ và tên", "Điểm"],
        ["'=1+1", 10],
        ["Nguyễn Thị Hồng Đào", -3],
        ["'@SUM(A1)", 1.5],
        ["'-2+3", None],
    ]
    assert {c.data_type for row in sheet.iter_rows() for c in row} <= {"s", "n"}
    assert [c.font.b for c in sheet[1]] == [True, True]


def test_xlsx_drops_control_characters_that_would_break_the_file():
    sheet = load_workbook(io.BytesIO(to_xlsx(["a"], [["x\x00y\x1b"]], ""))).worksheets[0]
    assert sheet.title == "Report"
    assert sheet["A2"].value == "xy"


def test_spreadsheet_response_names_the_download():
    csv_response = spreadsheet_response("csv", header=HEADER, rows=ROWS, title="t", filename="r-1")
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response["Content-Disposition"] == 'attachment; filename="r-1.csv"'
    assert csv_response.content == to_csv(HEADER, ROWS)
    xlsx = spreadsheet_response("xlsx", header=HEADER, rows=ROWS, title="t", filename="r-1")
    assert xlsx["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert xlsx["Content-Disposition"] == 'attachment; filename="r-1.xlsx"'
    with pytest.raises(Http404):
        spreadsheet_response("pdf", header=HEADER, rows=ROWS, title="t", filename="r-1")
