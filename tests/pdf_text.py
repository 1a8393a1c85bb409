"""Read a generated PDF back the way a reader's PDF viewer does: its text and its fonts."""

import io

from pypdf import PdfReader


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, decoded through the fonts' ToUnicode maps."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page_texts(pdf))


def pdf_fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts the pages use, without the subset prefix (ABCDEF+)."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names
