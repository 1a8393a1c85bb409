"""PDF output of the circulation area: the printable reader card."""

import io

from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm

from training_site.fonts import pdf_canvas, register_fonts

# ISO/IEC 7810 ID-1, the size of a bank card.
CARD_SIZE = (85.6 * mm, 54 * mm)


def _fit(pdf, text: str, font: str, size: float, width: float) -> float:
    while size > 5 and pdf.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def reader_card_pdf(patron, verify_url: str = "") -> bytes:
    """One card: library, name, card number as Code128 and QR, expiry date."""
    regular, bold = register_fonts()
    buffer = io.BytesIO()
    width, height = CARD_SIZE
    pdf = pdf_canvas(buffer, pagesize=CARD_SIZE)
    pdf.setTitle(_("Reader card %(card)s") % {"card": patron.card_number})
    pdf.setFillColorRGB(0.043, 0.365, 0.478)
    pdf.rect(0, height - 12 * mm, width, 12 * mm, stroke=0, fill=1)
    pdf.setFillColorRGB(1, 1, 1)
    library = patron.home_library.name
    pdf.setFont(bold, _fit(pdf, library, bold, 9, width - 8 * mm))
    pdf.drawString(4 * mm, height - 6 * mm, library)
    pdf.setFont(regular, 6.5)
    pdf.drawString(4 * mm, height - 10 * mm, _("READER CARD"))
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont(bold, _fit(pdf, patron.full_name, bold, 11, width - 30 * mm))
    pdf.drawString(4 * mm, height - 19 * mm, patron.full_name)
    pdf.setFont(regular, 7)
    pdf.drawString(
        4 * mm, height - 24 * mm, _("Card number: %(card)s") % {"card": patron.card_number}
    )
    pdf.drawString(
        4 * mm,
        height - 28 * mm,
        _("Valid until: %(date)s") % {"date": patron.expires_on.strftime("%d/%m/%Y")},
    )
    barcode = code128.Code128(patron.card_number, barHeight=11 * mm, barWidth=0.3 * mm)
    barcode.drawOn(pdf, 2 * mm, 6 * mm)
    pdf.setFont(regular, 6)
    pdf.drawString(6 * mm, 3 * mm, patron.card_number)
    widget = qr.QrCodeWidget(verify_url or patron.card_number)
    x0, y0, x1, y1 = widget.getBounds()
    side = 22 * mm
    scale = [side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0]
    # The drawing's starting font would otherwise be Helvetica.
    drawing = Drawing(side, side, transform=scale, initialFontName=regular)
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, width - side - 2 * mm, 4 * mm)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
