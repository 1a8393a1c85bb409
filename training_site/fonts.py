"""The one font registry for every PDF: DejaVu Sans, shipped in the repository.

ReportLab's built-in fonts (Helvetica, Times) have no Vietnamese letters (ơ, ư, ạ, ế...);
DejaVu Sans covers them and its licence (Bitstream Vera + public domain changes, see
font_files/LICENSE-DejaVu.txt) allows redistribution. The TTF files are embedded (subset)
into each PDF with a ToUnicode map, so the text can be searched and copied. There is no
fallback: a missing font file is an error, not a PDF with empty boxes.
"""

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_DIR = Path(__file__).resolve().parent / "font_files"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"


def register_fonts() -> tuple[str, str]:
    """Register the fonts with ReportLab (once per process); return (regular, bold) names."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name in (REGULAR, BOLD):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"{name}.ttf")))
    # Lets <b> in Paragraphs switch to the bold face.
    pdfmetrics.registerFontFamily(
        REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
    )
    return REGULAR, BOLD


def pdf_canvas(buffer, **options) -> canvas.Canvas:
    """A ReportLab canvas that starts every page in the regular face, not Helvetica."""
    regular, _bold = register_fonts()
    return canvas.Canvas(buffer, initialFontName=regular, **options)
