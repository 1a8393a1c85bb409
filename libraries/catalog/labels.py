"""Barcode and spine labels on A4 label sheets (Code128, call number, library code, shelf)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from training_site.fonts import pdf_canvas, register_fonts


@dataclass(frozen=True)
class SheetLayout:
    key: str
    label: str
    columns: int
    rows: int
    margin_x: float  # mm, left/right page margin
    margin_y: float  # mm, top/bottom page margin
    gap_x: float = 0  # mm between columns

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def size(self) -> tuple[float, float]:
        width = (
            A4[0] - 2 * self.margin_x * mm - (self.columns - 1) * self.gap_x * mm
        ) / self.columns
        height = (A4[1] - 2 * self.margin_y * mm) / self.rows
        return width, height


LAYOUTS = {
    layout.key: layout
    for layout in (
        SheetLayout("3x8", _("A4, 3 × 8 labels (70 × 37 mm)"), 3, 8, 0, 0.5),
        SheetLayout("2x7", _("A4, 2 × 7 labels (99.1 × 38.1 mm)"), 2, 7, 4.65, 15.15, 2.5),
        SheetLayout("4x10", _("A4, 4 × 10 labels (48.5 × 25.4 mm)"), 4, 10, 8, 21.5),
    )
}


def render_labels(items, *, layout: str = "3x8", start_at: int = 1) -> bytes:
    """A PDF with one label per item: Code128 barcode, its digits, call number, library code
    and the item's shelf (when it has one).

    `start_at` (1-based) skips labels already used on a partly used first sheet.
    """
    sheet = LAYOUTS[layout]
    width, height = sheet.size()
    font, _bold = register_fonts()
    buffer = io.BytesIO()
    pdf = pdf_canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(str(_("Barcode labels")))
    slot = max(0, start_at - 1) % sheet.per_page
    drawn_on_page = False
    for item in items:
        if slot == sheet.per_page:
            pdf.showPage()
            slot = 0
        column, row = slot % sheet.columns, slot // sheet.columns
        x = sheet.margin_x * mm + column * (width + sheet.gap_x * mm)
        y = A4[1] - sheet.margin_y * mm - (row + 1) * height
        _draw_label(pdf, item, x, y, width, height, font)
        drawn_on_page = True
        slot += 1
    if drawn_on_page or not items:
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw_label(pdf, item, x, y, width, height, font):
    pad = 2.5 * mm
    text_size = min(9, height / mm / 4.2)
    bar_height = max(6 * mm, height - 2 * pad - 3.2 * text_size)
    barcode = code128.Code128(item.barcode, barHeight=bar_height, humanReadable=False)
    # Shrink bars to fit the label; the quiet zone is part of the drawing.
    available = width - 2 * pad
    if barcode.width > available:
        barcode = code128.Code128(
            item.barcode,
            barHeight=bar_height,
            barWidth=barcode.barWidth * available / barcode.width,
            humanReadable=False,
        )
    barcode.drawOn(pdf, x + (width - barcode.width) / 2, y + height - pad - bar_height)
    pdf.setFont(font, text_size)
    pdf.drawCentredString(x + width / 2, y + height - pad - bar_height - text_size, item.barcode)
    call_number = (item.call_number or item.record.call_number or "")[:28]
    pdf.setFont(font, text_size + 1)
    pdf.drawString(x + pad, y + pad, call_number)
    pdf.setFont(font, text_size)
    place = f"{item.library.code} · {item.shelf.code}" if item.shelf_id else item.library.code
    pdf.drawRightString(x + width - pad, y + pad, place)
