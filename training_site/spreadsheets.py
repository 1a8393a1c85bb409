"""The one writer for every CSV and XLSX download.

Spreadsheet programs run a cell that starts with = + - @ (or a tab or carriage return) as a
formula, so a reader's name or a scanned barcode such as =HYPERLINK(...) could become a live
link or command. Every text cell written here is quoted with a leading apostrophe.
"""

import csv
import io
import re

from django.http import Http404, HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Characters Excel refuses in a sheet name.
SHEET_TITLE_FORBIDDEN = re.compile(r"[\\*?:/\[\]]")


def safe_cell(value):
    """The value as a spreadsheet will show it, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header, rows) -> bytes:
    """UTF-8 with a BOM, so Excel reads Vietnamese letters correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(v) for v in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_value(value):
    value = safe_cell(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters break the file
    return value


def to_xlsx(header, rows, title: str) -> bytes:
    """One sheet named `title` with a bold header row."""
    workbook = Workbook(write_only=True)
    sheet_title = " ".join(SHEET_TITLE_FORBIDDEN.sub(" ", str(title)).split())[:31]
    sheet = workbook.create_sheet(title=sheet_title or "Report")
    header_cells = []
    for value in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def attachment(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    """A download response; `filename` is ASCII (codes and slugs)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def spreadsheet_response(fmt: str, *, header, rows, title: str, filename: str) -> HttpResponse:
    """The table as a CSV or XLSX download named `filename`.`fmt`; 404 for other formats."""
    if fmt == "csv":
        content = to_csv(header, rows)
    elif fmt == "xlsx":
        content = to_xlsx(header, rows, title)
    else:
        raise Http404
    return attachment(content, content_type=CONTENT_TYPES[fmt], filename=f"{filename}.{fmt}")
