"""Check an uploaded EPUB or PDF before anything is written. Pure: reads, never writes.

`validate_book(stream, name)` returns a `ValidatedBook` (kind, size, SHA-256, metadata, cover,
text) or raises `BookRefused` with one translated sentence saying why.

EPUB, cheapest and most dangerous checks first:

1. The one ZIP guard of every upload (training_site/archives.py) with the e-book caps: size
   (``DIGITAL_MAX_UPLOAD_BYTES``), a real ZIP, entry count, declared total, compression ratio
   overall and per entry, traversal in every form, symbolic links, duplicate names.
2. The container: the first entry is ``mimetype`` holding ``application/epub+zip``;
   ``META-INF/container.xml`` is present and names a package document that is in the file.
3. Every entry is read with the guard's budget (a lying header or bad CRC is refused); XML
   that declares entities (the "billion laughs") is refused before any parser sees it.
4. ebooklib parses the package document (title, spine, manifest).

PDF: pypdf opens it; an encrypted file is refused (a reader could not open it, and we could
not read it); a file carrying JavaScript (document, page or annotation actions, names tree,
form scripts), a launch action (it starts a program) or embedded files is refused, not
cleaned: a cleaned copy would be a different document from the one the library bought, and
refusing says plainly what is wrong. Every object reachable from the trailer is examined.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from typing import BinaryIO

import ebooklib
import lxml.html
from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ebooklib import epub
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from libraries.digital.metadata import BookMetadata, from_epub, from_pdf
from libraries.models import DigitalFile
from training_site.archives import ArchiveRefused, ZipLimits, open_zip, read_entries

EPUB_MIMETYPE = b"application/epub+zip"
CONTAINER = "META-INF/container.xml"
MAX_ENTRIES = 10_000
MAX_RATIO = 100
MAX_TEXT_CHARS = 5_000_000
MAX_PDF_OBJECTS = 500_000
PDF_TEXT_PAGES = 2_000
XML_SUFFIXES = (".opf", ".ncx", ".xml", ".xhtml", ".xht", ".html", ".htm", ".svg", ".smil")
COVER_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class BookRefused(ValueError):
    """The upload is not a book we accept; the message says why, for the person uploading."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Cover:
    data: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return COVER_TYPES[self.content_type]


@dataclass
class ValidatedBook:
    kind: str
    size: int
    sha256: str
    metadata: BookMetadata
    text: str = ""
    cover: Cover | None = None
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)


def max_upload() -> int:
    return settings.DIGITAL_MAX_UPLOAD_BYTES


def limits() -> ZipLimits:
    cap = max_upload()
    return ZipLimits(
        max_upload=cap, max_entries=MAX_ENTRIES, max_total=cap * 3, max_ratio=MAX_RATIO
    )


def _digest(stream: BinaryIO) -> tuple[int, str]:
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return size, digest.hexdigest()


def detect_kind(head: bytes) -> str:
    """'epub' for a ZIP, 'pdf' for a PDF header in the first KB, else refused."""
    if head.startswith(b"PK\x03\x04"):
        return DigitalFile.Kind.EPUB
    if b"%PDF-" in head[:1024]:
        return DigitalFile.Kind.PDF
    raise BookRefused(_("This file is neither an EPUB e-book nor a PDF document."))


def validate_book(stream: BinaryIO, name: str = "") -> ValidatedBook:
    """Check an EPUB or PDF (detected from its first bytes) and read what it says."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise BookRefused(_("The file is empty."))
    if size > max_upload():
        raise BookRefused(
            _("The file is too large (%(size)s; at most %(max)s).")
            % {"size": filesizeformat(size), "max": filesizeformat(max_upload())}
        )
    head = stream.read(1024)
    stream.seek(0)
    kind = detect_kind(head)
    size, sha256 = _digest(stream)
    book = _validate_epub(stream) if kind == DigitalFile.Kind.EPUB else _validate_pdf(stream)
    book.size, book.sha256 = size, sha256
    stream.seek(0)
    return book


# --------------------------------------------------------------------------- EPUB


def _container_rootfile(data: bytes) -> str:
    try:
        root = SafeTree.fromstring(data, forbid_dtd=False, forbid_entities=True)
    except (SafeTree.ParseError, DefusedXmlException, ValueError):
        raise BookRefused(_("META-INF/container.xml is not valid XML."))
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "rootfile" and element.get("full-path"):
            return element.get("full-path")
    raise BookRefused(_("META-INF/container.xml names no package document (rootfile)."))


def _text_of(html: bytes) -> str:
    try:
        document = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for element in document.xpath("//script|//style|//head"):
        element.drop_tree()
    return " ".join(document.text_content().split())


def _validate_epub(stream: BinaryIO) -> ValidatedBook:
    try:
        archive, entries = open_zip(stream, limits())
    except ArchiveRefused as refused:
        raise BookRefused(refused.message)
    if not entries or entries[0].name != "mimetype":
        raise BookRefused(_("This is not an EPUB: its first entry must be the file “mimetype”."))
    by_name = {entry.name: entry for entry in entries}
    if CONTAINER not in by_name:
        raise BookRefused(_("This EPUB has no META-INF/container.xml."))
    try:
        files = read_entries(archive, entries, limits().max_total)
    except ArchiveRefused as refused:
        raise BookRefused(refused.message)
    if files["mimetype"].strip() != EPUB_MIMETYPE:
        raise BookRefused(_("This is not an EPUB: “mimetype” must say application/epub+zip."))
    package = _container_rootfile(files[CONTAINER])
    if package not in files:
        raise BookRefused(
            _("The package document %(file)s named by container.xml is missing.")
            % {"file": package}
        )
    for entry_name, data in files.items():
        if entry_name.lower().endswith(XML_SUFFIXES) and b"<!ENTITY" in data:
            raise BookRefused(_("%(file)s declares XML entities; refused.") % {"file": entry_name})
    try:
        SafeTree.fromstring(files[package], forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException:
        raise BookRefused(_("%(file)s declares XML entities; refused.") % {"file": package})
    except (SafeTree.ParseError, ValueError):
        raise BookRefused(_("The package document %(file)s is not valid XML.") % {"file": package})
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(stream.read()), {"ignore_ncx": True})
    except Exception:  # noqa: BLE001 - ebooklib raises many kinds on a broken package
        raise BookRefused(
            _("The package document %(file)s cannot be read as an EPUB package.")
            % {"file": package}
        )
    finally:
        stream.seek(0)
    metadata = from_epub(book)
    if not book.spine:
        raise BookRefused(_("This EPUB has no reading order (an empty spine)."))
    return ValidatedBook(
        kind=DigitalFile.Kind.EPUB,
        size=0,
        sha256="",
        metadata=metadata,
        text=_epub_text(book),
        cover=_epub_cover(book),
    )


def _epub_text(book) -> str:
    parts, total = [], 0
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        text = _text_of(item.get_content())
        if text:
            parts.append(text)
            total += len(text) + 1
        if total > MAX_TEXT_CHARS:
            break
    return "\n".join(parts)[:MAX_TEXT_CHARS]


def _epub_cover(book) -> Cover | None:
    candidates = list(book.get_items_of_type(ebooklib.ITEM_COVER))
    cover_ids = [attrs.get("content") for _v, attrs in book.get_metadata("OPF", "cover") or []]
    candidates += [book.get_item_with_id(i) for i in cover_ids if i]
    for item in candidates:
        if item is not None and item.media_type in COVER_TYPES:
            data = item.get_content()
            if data:
                return Cover(data, item.media_type)
    return None


# --------------------------------------------------------------------------- PDF


def _pdf_danger(reader: PdfReader) -> str:
    """The first dangerous thing reachable from the trailer, as a message ("" when none)."""
    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            try:
                node = node.get_object()
            except Exception:  # noqa: BLE001, S112 - a dangling reference holds nothing
                continue
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            return _("This PDF has too many objects to be checked.")
        if isinstance(node, DictionaryObject):
            keys = set(node.keys())
            action = node.get("/S")
            if "/JS" in keys or "/JavaScript" in keys or action == "/JavaScript":
                return _("This PDF contains JavaScript; refused. Save it again without scripts.")
            if action == "/Launch" or node.get("/Type") == "/Launch":
                return _("This PDF contains a launch action (it would start a program); refused.")
            if (
                "/EmbeddedFiles" in keys
                or "/EF" in keys
                or node.get("/Type") == "/EmbeddedFile"
                or node.get("/Subtype") in ("/FileAttachment", "/RichMedia")
            ):
                return _("This PDF carries embedded files; refused. Save it without attachments.")
            if "/XFA" in keys:
                return _("This PDF holds an XFA form (it can run scripts); refused.")
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return ""


def _validate_pdf(stream: BinaryIO) -> ValidatedBook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(stream, strict=False)
            if reader.is_encrypted:
                raise BookRefused(
                    _("This PDF is encrypted or password-protected; save an unprotected copy.")
                )
            pages = len(reader.pages)
            danger = _pdf_danger(reader)
    except BookRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError):
        raise BookRefused(_("The PDF is damaged and cannot be read."))
    if danger:
        raise BookRefused(danger)
    if pages == 0:
        raise BookRefused(_("This PDF has no pages."))
    text = _pdf_text(reader)
    return ValidatedBook(
        kind=DigitalFile.Kind.PDF,
        size=0,
        sha256="",
        metadata=from_pdf(reader, text[:20_000]),
        text=text,
        pages=pages,
    )


def _pdf_text(reader: PdfReader) -> str:
    parts, total = [], 0
    for number, page in enumerate(reader.pages):
        if number >= PDF_TEXT_PAGES or total > MAX_TEXT_CHARS:
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                text = page.extract_text() or ""
        except Exception:  # noqa: BLE001 - a page whose text cannot be read adds none
            text = ""
        text = " ".join(text.split())
        if text:
            parts.append(text)
            total += len(text) + 1
    return "\n".join(parts)[:MAX_TEXT_CHARS]
