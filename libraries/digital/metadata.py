"""What an e-book or PDF says about itself, and the catalog record it belongs to.

The fields a cataloguer would copy from the title page: title, creators, language, publisher,
date, identifiers (the ISBN among them), summary, subjects. The record is found with the MARC
import's matching (libraries/catalog/marc.py, RecordMatcher): the same ISBN, else the same
control number, else the same fingerprint of title, authors, publisher and year.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from libraries.catalog.marc import RecordMatcher
from libraries.models import Record
from training_site.text import nfc, normalise_isbn

# ISO 639-1 (what EPUB and PDF carry, "vi", "en-US") to the MARC codes of Record.language.
MARC_LANGUAGES = {
    "vi": "vie",
    "en": "eng",
    "fr": "fre",
    "ru": "rus",
    "zh": "chi",
    "ja": "jpn",
    "ko": "kor",
    "de": "ger",
    "es": "spa",
    "ar": "ara",
    "th": "tha",
    "km": "khm",
    "lo": "lao",
    "it": "ita",
    "pt": "por",
    "hi": "hin",
    "he": "heb",
    "id": "ind",
    "ms": "may",
    "nl": "dut",
}
_ISBN_IN_TEXT = re.compile(r"ISBN(?:-1[03])?:?\s*((?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx])")
# What PDF writers put in the document information when nobody filled it in.
PDF_PLACEHOLDERS = {
    "(unspecified)",
    "unspecified",
    "untitled",
    "(anonymous)",
    "anonymous",
    "unknown",
}
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


@dataclass
class BookMetadata:
    title: str = ""
    subtitle: str = ""
    creators: list[str] = field(default_factory=list)
    language: str = ""  # as the file gives it ("en-US")
    publisher: str = ""
    date: str = ""
    identifiers: list[str] = field(default_factory=list)
    isbn: str = ""  # ISBN-13, when an identifier (or the first pages) carries a valid one
    summary: str = ""
    subjects: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def marc_language(self) -> str:
        code = self.language.strip().lower().split("-")[0].split("_")[0]
        if len(code) == 3 and code.isalpha():
            return code
        return MARC_LANGUAGES.get(code, "")

    @property
    def year(self) -> int | None:
        found = _YEAR.search(self.date or "")
        return int(found.group(1)) if found else None

    def record_fields(self) -> dict:
        """Values for a new catalog record (the fields Record and the staff form know)."""
        return {
            "title": _clip(self.title, 500),
            "subtitle": _clip(self.subtitle, 500),
            "authors": _clip("; ".join(self.creators), 500),
            "publisher": _clip(self.publisher, 300),
            "year": self.year,
            "isbn": self.isbn,
            "language": self.marc_language,
            "subjects": "\n".join(s for s in self.subjects if s)[:5000],
            "summary": self.summary[:5000],
        }


def _clip(value: str, length: int) -> str:
    return nfc(" ".join((value or "").split()))[:length]


def isbn_from(values) -> str:
    """The first valid ISBN (as ISBN-13) among identifiers ("urn:isbn:…", "ISBN 978…")."""
    for value in values:
        text = str(value or "")
        candidate = re.sub(r"^(urn:)?isbn:?", "", text.strip(), flags=re.IGNORECASE)
        isbn = normalise_isbn(candidate)
        if isbn:
            return isbn
        found = _ISBN_IN_TEXT.search(text)
        if found and normalise_isbn(found.group(1)):
            return normalise_isbn(found.group(1))
    return ""


def isbn_in_text(text: str) -> str:
    """An ISBN printed in the text ("ISBN 978-604-…"), e.g. on a PDF's copyright page."""
    for found in _ISBN_IN_TEXT.finditer(text or ""):
        isbn = normalise_isbn(found.group(1))
        if isbn:
            return isbn
    return ""


def _dc(book, name: str) -> list[tuple[str, dict]]:
    try:
        return book.get_metadata("DC", name) or []
    except (KeyError, AttributeError):
        return []


def from_epub(book) -> BookMetadata:
    """The Dublin Core of an ebooklib book (the package document's metadata)."""
    titles = [_clip(v, 500) for v, _a in _dc(book, "title") if v and v.strip()]
    identifiers = [str(v).strip() for v, _a in _dc(book, "identifier") if v and str(v).strip()]
    isbn = ""
    for value, attrs in _dc(book, "identifier"):
        scheme = " ".join(str(v) for v in (attrs or {}).values()).lower()
        if "isbn" in scheme and normalise_isbn(str(value)):
            isbn = normalise_isbn(str(value))
            break
    return BookMetadata(
        title=titles[0] if titles else "",
        subtitle=titles[1] if len(titles) > 1 else "",
        creators=[_clip(v, 200) for v, _a in _dc(book, "creator") if v and v.strip()],
        language=next((v.strip() for v, _a in _dc(book, "language") if v and v.strip()), ""),
        publisher=next((_clip(v, 300) for v, _a in _dc(book, "publisher") if v), ""),
        date=next((v.strip() for v, _a in _dc(book, "date") if v and v.strip()), ""),
        identifiers=identifiers,
        isbn=isbn or isbn_from(identifiers),
        summary=next((_clip(v, 5000) for v, _a in _dc(book, "description") if v), ""),
        subjects=[_clip(v, 200) for v, _a in _dc(book, "subject") if v and v.strip()],
    )


def from_pdf(reader, first_pages_text: str) -> BookMetadata:
    """The document information of a pypdf reader, and an ISBN printed on its first pages."""
    info = reader.metadata or {}

    def value(key: str) -> str:
        try:
            raw = info.get(key)
        except Exception:  # noqa: BLE001 - a broken info dictionary is just no metadata
            return ""
        text = _clip(str(raw), 500) if raw else ""
        return "" if text.lower() in PDF_PLACEHOLDERS else text

    language = ""
    try:
        language = str(reader.trailer["/Root"].get("/Lang") or "")
    except Exception:  # noqa: BLE001 - no catalog language
        language = ""
    authors = value("/Author")
    creators = [a.strip() for a in re.split(r";|\s&\s", authors) if a.strip()] if authors else []
    subjects = [s.strip() for s in re.split(r"[;,]", value("/Keywords")) if s.strip()]
    date = value("/CreationDate").removeprefix("D:")
    return BookMetadata(
        title=value("/Title"),
        creators=creators,
        language=language,
        publisher="",
        date=date[:4] if date[:4].isdigit() else "",
        identifiers=[],
        isbn=isbn_in_text(first_pages_text),
        summary=value("/Subject"),
        subjects=subjects,
    )


def find_record(metadata: BookMetadata) -> tuple[Record | None, str]:
    """The catalog record the file describes and how it was found ("" when none)."""
    probe = Record(**metadata.record_fields())
    probe.refresh_search_text()
    return RecordMatcher([probe]).match(probe)


def new_record(metadata: BookMetadata, *, fallback_title: str) -> Record:
    """An unsaved record filled from the metadata (a file without a title keeps its name)."""
    fields = metadata.record_fields()
    fields["title"] = fields["title"] or _clip(fallback_title, 500)
    return Record(**fields)
