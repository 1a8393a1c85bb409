import io
import unicodedata

from reportlab.pdfbase import pdfmetrics

from tests.pdf_text import pdf_fonts, pdf_text
from training_site.fonts import BOLD, FONT_DIR, REGULAR, pdf_canvas, register_fonts

NAME = "Nguyễn Thị Hồng Đào"
# Every Vietnamese letter with every tone mark, lower and upper case: more glyphs than one
# ReportLab font subset (256) holds, so the text spans several embedded subsets.
VOWELS = "aăâeêioôơuưy"
TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng


def _alphabet() -> str:
    letters = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in ("", *TONES)]
    letters += ["đ"]
    return "".join(letters) + "".join(letters).upper()


def _render(lines: list[tuple[str, str]]) -> bytes:
    out = io.BytesIO()
    pdf = pdf_canvas(out)
    for n, (font, text) in enumerate(lines):
        pdf.setFont(font, 10)
        pdf.drawString(20, 800 - 14 * n, text)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def test_register_fonts_uses_the_files_shipped_in_the_repository():
    assert register_fonts() == register_fonts() == ("DejaVuSans", "DejaVuSans-Bold")
    assert FONT_DIR.parts[-2:] == ("training_site", "font_files")
    for name in (REGULAR, BOLD):
        assert pdfmetrics.getFont(name).face.filename == str(FONT_DIR / f"{name}.ttf")


def test_vietnamese_text_reads_back_from_the_pdf():
    regular, bold = register_fonts()
    pdf = _render([(regular, NAME), (bold, "Thư viện Đông Anh")])
    assert pdf_text(pdf).splitlines() == [NAME, "Thư viện Đông Anh"]
    assert pdf_fonts(pdf) == {"DejaVuSans", "DejaVuSans-Bold"}


def test_the_whole_alphabet_reads_back_across_font_subsets():
    regular, _bold = register_fonts()
    alphabet = _alphabet()
    assert len(set(alphabet)) == 2 * (len(VOWELS) * 6 + 1) == 146
    lines = [alphabet[i : i + 40] for i in range(0, len(alphabet), 40)]
    lines.append("".join(chr(c) for c in range(0x21, 0x7F)))  # ASCII
    lines.append("".join(chr(c) for c in range(0xC0, 0x180)))  # Latin-1 and Extended-A
    pdf = _render([(regular, line) for line in lines])
    assert pdf_text(pdf).splitlines() == lines


def test_a_page_without_text_names_no_builtin_font():
    out = io.BytesIO()
    pdf = pdf_canvas(out)
    pdf.rect(10, 10, 50, 50)
    pdf.showPage()
    pdf.save()
    assert b"Helvetica" not in out.getvalue()
