"""The stocktake report as a printable PDF: a summary of the counts and one row per item."""

import io
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from libraries.stocktake.services import StocktakeReport
from training_site.fonts import register_fonts


def stocktake_report_pdf(report: StocktakeReport, header: list[str]) -> bytes:
    """A4 landscape: title with the library name, the counts, then `report.rows()` as a table."""
    regular, bold = register_fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(A4), title=_("Stocktake report"), initialFontName=regular
    )
    title_style = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10)
    counts = report.counts
    summary = ", ".join(
        [
            _("expected %(n)s") % {"n": counts["expected"]},
            _("found %(n)s") % {"n": counts["found"]},
            _("missing %(n)s") % {"n": counts["missing"]},
            _("misplaced %(n)s") % {"n": counts["misplaced"]},
            _("unknown %(n)s") % {"n": counts["unknown"]},
            _("wrong status %(n)s") % {"n": counts["wrong_status"]},
        ]
    )
    data = [[Paragraph(escape(h), cell) for h in header]] + [
        [Paragraph(escape(str(v)), cell) for v in row] for row in report.rows()
    ]
    table = Table(data, repeatRows=1, colWidths=[70, 85, 245, 85, 55, 70, 90])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 8),  # the table's own default is Helvetica
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    title = _("Stocktake report · %(library)s") % {"library": report.stocktake.library.name}
    doc.build([Paragraph(escape(title), title_style), Paragraph(escape(summary), cell), table])
    return out.getvalue()
