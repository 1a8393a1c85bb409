"""MARC21 in and out: streaming import with matching, holdings to items, and export.

Reading decides the character set per record: the leader (position 09: "a" = UTF-8,
blank = MARC-8), except that a record claiming MARC-8 whose bytes are valid UTF-8 with
non-ASCII characters is read as UTF-8 (a common mislabelling), and an explicit encoding
(e.g. cp1251) overrides both. Binary records are cut from the stream by the length in their
leader, so one bad record is reported with its position and reason and the next one is read.

Import matching (so a second import of the same file adds nothing): same ISBN-13, else
same control number (001 with 003), else, for records with neither, the same fingerprint of
normalised title, author, publisher and year.
"""

from __future__ import annotations

import io
import re
import unicodedata
import xml.sax
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import pymarc
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.catalog.services import next_barcodes, touch_records
from libraries.models import DigitalFile, ExternalLink, Item, Library, Record
from libraries.models.catalog import DESCRIPTIVE_FIELDS, SEARCH_FIELDS
from training_site.text import normalise_isbn

RECORD_TERMINATOR = b"\x1d"
BATCH_SIZE = 500
MAPPED_FIELDS = (*DESCRIPTIVE_FIELDS, "control_number", "control_number_source")
MAPPED_TAGS = ("020", "041", "050", "082", "090", "100", "110", "245", "260", "264", "520",
               "600", "610", "650", "651", "700", "710")  # fmt: skip


class MarcFileRefused(Exception):
    """The whole file cannot be read as MARC (empty, not MARC, unknown encoding)."""


@dataclass
class RecordProblem:
    position: int  # 1-based record number in the file
    offset: int | None  # byte offset where the record starts (binary MARC)
    reason: str

    def as_dict(self) -> dict:
        return {"position": self.position, "offset": self.offset, "reason": self.reason}

    def __str__(self):
        where = _("record %(n)d") % {"n": self.position}
        if self.offset is not None:
            where += _(" (byte %(offset)d)") % {"offset": self.offset}
        return f"{where}: {self.reason}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    items_created: int = 0
    items_updated: int = 0
    problems: list[RecordProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed


# --------------------------------------------------------------------------- reading


HEAD_BYTES = 4096  # enough for a MARC leader and directory, or an XML prolog and root tag
FIELD_TERMINATOR = 0x1E
MARCXML_ROOTS = frozenset({"collection", "record"})
WEB_PAGE_ROOTS = frozenset({"html", "svg", "head", "body", "script", "iframe", "math", "xsl"})
_XML_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_XML_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)[\s/>]")


def detect_format(head: bytes) -> str:
    """'marc' or 'marcxml' from the first HEAD_BYTES bytes, or MarcFileRefused.

    Binary MARC21 needs a leader with its record length and base address, and the directory
    ending where the base address says (when the head reaches it). MARCXML needs a root
    element <collection> or <record> (with or without a namespace prefix); web pages, SVG,
    a document type declaration or any other XML are refused.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise MarcFileRefused(_("The file is empty."))
    if stripped.startswith(b"<"):
        return _detect_marcxml(stripped)
    if _looks_like_marc21(stripped):
        return "marc"
    raise MarcFileRefused(
        _("This is not a MARC21 file: a MARC record starts with a 24-character leader.")
    )


def _looks_like_marc21(head: bytes) -> bool:
    if len(head) < 24 or not (head[:5].isdigit() and head[12:17].isdigit()):
        return False
    length, base = int(head[:5]), int(head[12:17])
    if base < 25 or length <= base:
        return False
    return len(head) < base or head[base - 1] == FIELD_TERMINATOR


def _detect_marcxml(head: bytes) -> str:
    position = 0
    while match := _XML_PROLOG.match(head, position):
        position = match.end()
    rest = head[position:].lstrip()
    web_page = MarcFileRefused(
        _("This file is a web page or an image (HTML, SVG), not a MARC file.")
    )
    if rest[:2] == b"<!" and rest[:4] != b"<!--":
        # <!DOCTYPE html> or a DTD: MARCXML never needs one, and a DTD can define entities.
        if rest[2:9].lower() == b"doctype" and b"html" in rest[9:40].lower():
            raise web_page
        raise MarcFileRefused(
            _("This XML file declares a document type (DTD); MARCXML files have none.")
        )
    root = _XML_ROOT.match(rest)
    if not root:
        raise MarcFileRefused(
            _("This file starts like XML but has no MARCXML <collection> or <record> element.")
        )
    name = root.group(2).decode("ascii").lower()
    if name in WEB_PAGE_ROOTS:
        raise web_page
    if name not in MARCXML_ROOTS:
        raise MarcFileRefused(
            _(
                "This XML file is not MARCXML: its root element is <%(name)s>, "
                "not <collection> or <record>."
            )
            % {"name": rest[1 : root.end() - 1].decode("ascii")}
        )
    return "marcxml"


def _decode(raw: bytes, encoding: str | None) -> tuple[pymarc.Record, bool]:
    """One binary record to a pymarc Record in Unicode, choosing the character set.

    Also says whether the raw bytes are UTF-8 text (so they can be kept as they are).
    """
    utf8 = False
    options = {"to_unicode": True, "utf8_handling": "strict"}
    if encoding:
        # An explicit encoding wins over the leader: read every subfield with it.
        raw = raw[:9] + b" " + raw[10:]
        record = pymarc.Record(data=raw, file_encoding=encoding, **options)
    elif raw[9:10] == b"a":
        record = pymarc.Record(data=raw, **options)
        utf8 = True
    else:
        force_utf8 = False
        if not raw.isascii():
            try:
                raw.decode("utf-8")
                force_utf8 = True
            except UnicodeDecodeError:
                force_utf8 = False
        record = pymarc.Record(data=raw, force_utf8=force_utf8, **options)
        # Pure ASCII without MARC-8 escape sequences is the same text in UTF-8.
        utf8 = force_utf8 or (raw.isascii() and b"\x1b" not in raw)
    record.leader = pymarc.Leader(str(record.leader)[:9] + "a" + str(record.leader)[10:])
    record.force_utf8 = True
    return record, utf8


class _Pushback:
    """A binary stream we can give bytes back to (after reading past a record's end)."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = b""

    def read(self, n: int) -> bytes:
        if n <= 0:
            return b""
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        if len(data) < n:
            data += self.stream.read(n - len(data))
        return data

    def unread(self, data: bytes) -> None:
        self.buffer = data + self.buffer

    def read_to_terminator(self) -> tuple[bytes, bool]:
        """Bytes up to and including the next record terminator (False: end of file)."""
        out = b""
        while True:
            chunk = self.read(4096)
            if not chunk:
                return out, False
            cut = chunk.find(RECORD_TERMINATOR)
            if cut != -1:
                self.unread(chunk[cut + 1 :])
                return out + chunk[: cut + 1], True
            out += chunk


def read_binary(
    stream: io.BufferedIOBase, *, encoding: str | None = None
) -> Iterator[tuple[int, int, pymarc.Record | None, bytes | None, str]]:
    """Yield (position, offset, record or None, raw bytes, problem) for each record.

    Records are cut by the length in their leader; a leader that is not a number makes the
    reader skip to the next record terminator. A short final record is reported truncated.
    """
    source = _Pushback(stream)
    position = 0
    offset = 0
    while True:
        head = source.read(5)
        if len(head) < 5 and not head.strip(b"\r\n\x1a \x00"):
            return  # end of file, or the blank padding some systems append
        position += 1
        record_offset = offset
        if len(head) < 5 or not head.isdigit():
            rest, found = source.read_to_terminator()
            offset += len(head) + len(rest)
            if not found:
                yield position, record_offset, None, None, _("not a MARC record (no valid leader)")
                return
            yield (
                position,
                record_offset,
                None,
                None,
                _("record length in the leader is not a number"),
            )
            continue
        length = int(head)
        if length < 25:
            rest, found = source.read_to_terminator()
            offset += len(head) + len(rest)
            yield (
                position,
                record_offset,
                None,
                None,
                _("record length %(n)d is too short") % {"n": length},
            )
            if not found:
                return
            continue
        raw = head + source.read(length - 5)
        if len(raw) < length:
            yield (
                position,
                record_offset,
                None,
                raw,
                _("truncated: the leader announces %(expected)d bytes, the file ends after %(got)d")
                % {"expected": length, "got": len(raw)},
            )
            return
        offset += length
        if not raw.endswith(RECORD_TERMINATOR):
            cut = raw.find(RECORD_TERMINATOR)
            if cut != -1:
                # The stated length runs into the next record: give those bytes back.
                source.unread(raw[cut + 1 :])
                offset = record_offset + cut + 1
            else:
                # The record runs on past its stated length: skip to its real end.
                rest, _found = source.read_to_terminator()
                offset += len(rest)
            yield (
                position,
                record_offset,
                None,
                raw,
                _("the record does not end where its leader says (corrupt length)"),
            )
            continue
        try:
            record, utf8 = _decode(raw, encoding)
        except LookupError:
            raise MarcFileRefused(_("Unknown encoding “%(e)s”.") % {"e": encoding})
        except UnicodeDecodeError as exc:
            yield (
                position,
                record_offset,
                None,
                raw,
                _("invalid characters: %(e)s") % {"e": exc.reason},
            )
            continue
        except Exception as exc:  # noqa: BLE001 - pymarc raises many exception kinds
            reason = str(exc) or exc.__class__.__name__
            yield position, record_offset, None, raw, _("unreadable record: %(e)s") % {"e": reason}
            continue
        utf8_raw = raw[:9] + b"a" + raw[10:] if utf8 else None
        yield position, record_offset, record, utf8_raw, ""


class _XmlRecords(pymarc.XmlHandler):
    def __init__(self, callback):
        super().__init__(strict=False, normalize_form="NFC")
        self.callback = callback
        self.count = 0

    def process_record(self, record):
        self.count += 1
        self.callback(self.count, record)


# --------------------------------------------------------------------------- mapping

_TRAILING = " /:;,=.+"
_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")


def _clean(value: str | None) -> str:
    value = unicodedata.normalize("NFC", value or "")
    value = " ".join(value.split())
    value = value.rstrip(" /:;,=+").strip()
    if not re.search(r"(?:^|[\s.])\w\.$", value):  # keep the dot of an initial: "Lauras, M."
        value = value.rstrip(_TRAILING).strip()
    # Drop brackets of ISBD inferred data, "[Hà Nội]" -> "Hà Nội".
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1].strip()
    return value


def _first(record: pymarc.Record, tags: tuple[str, ...], code: str) -> str:
    for tag in tags:
        for f in record.get_fields(tag):
            for value in f.get_subfields(code):
                if _clean(value):
                    return _clean(value)
    return ""


def map_record(record: pymarc.Record) -> dict:
    """MARC21 bibliographic record -> Record field values (NFC text)."""
    title = _first(record, ("245",), "a")
    subtitle = _first(record, ("245",), "b")
    names = []
    for tag in ("100", "110", "700", "710"):
        for f in record.get_fields(tag):
            name = _clean(" ".join(f.get_subfields("a")))
            if name and name not in names:
                names.append(name)
    authors = "; ".join(names)[:500]
    publisher = _first(record, ("260", "264"), "b")
    place = _first(record, ("260", "264"), "a")
    year = None
    for tag in ("260", "264"):
        for f in record.get_fields(tag):
            for value in f.get_subfields("c"):
                match = _YEAR.search(value)
                if match and year is None:
                    year = int(match.group(1))
    control_008 = record.get("008").data if record.get("008") else ""
    if year is None and len(control_008) >= 11 and control_008[7:11].isdigit():
        candidate = int(control_008[7:11])
        year = candidate if 1400 < candidate < 2200 else None
    isbn = ""
    for f in record.get_fields("020"):
        for value in f.get_subfields("a"):
            isbn = normalise_isbn(value)
            if isbn:
                break
        if isbn:
            break
    language = ""
    if len(control_008) >= 38 and control_008[35:38].strip().isalpha():
        language = control_008[35:38].strip().lower()
    if not language:
        language = _first(record, ("041",), "a")[:3].lower()
    subjects = []
    for tag in ("650", "600", "610", "651"):
        for f in record.get_fields(tag):
            parts = [_clean(v) for c, v in _subfield_pairs(f) if c in "abxyzv"]
            subject = " -- ".join(p for p in parts if p)
            if subject and subject not in subjects:
                subjects.append(subject)
    call_number = ""
    for tag in ("082", "090", "050"):
        f = record.get(tag)
        if f is not None:
            call_number = " ".join(_clean(v) for v in f.get_subfields("a", "b"))[:100].strip()
            if call_number:
                break
    summary = "\n".join(_clean(v) for f in record.get_fields("520") for v in f.get_subfields("a"))
    control_number = (record.get("001").data.strip() if record.get("001") else "")[:100]
    source = (record.get("003").data.strip() if record.get("003") else "")[:50]
    return {
        "title": (title or _("[untitled]"))[:500],
        "subtitle": subtitle[:500],
        "authors": authors,
        "publisher": publisher[:300],
        "place": place[:200],
        "year": year,
        "isbn": isbn,
        "language": language,
        "subjects": "\n".join(subjects),
        "call_number": call_number,
        "summary": summary,
        "control_number": control_number,
        "control_number_source": source if control_number else "",
    }


def _subfield_pairs(f: pymarc.Field):
    return [(s.code, s.value) for s in f.subfields]


@dataclass
class Holding:
    barcode: str
    call_number: str
    item_type: str
    price: Decimal | None
    acquired_on: date | None
    notes: str


def map_holdings(record: pymarc.Record) -> list[Holding]:
    """Koha-style 952 ($p barcode, $o call number, $y type, $g price, $d date) and 852."""
    holdings = []
    types = set(Item.Type.values)
    for f in record.get_fields("952", "852"):
        sub = {}
        for code, value in _subfield_pairs(f):
            sub.setdefault(code, value.strip())
        if f.tag == "952":
            call = sub.get("o", "")
        else:
            call = " ".join(v for v in (sub.get("h", ""), sub.get("i", "")) if v)
        price = None
        if sub.get("g"):
            try:
                price = Decimal(re.sub(r"[^0-9.]", "", sub["g"]) or "x").quantize(Decimal(1))
            except InvalidOperation:
                price = None
        acquired = None
        if f.tag == "952" and sub.get("d"):
            try:
                acquired = date.fromisoformat(sub["d"][:10])
            except ValueError:
                acquired = None
        item_type = sub.get("y", "").lower() if f.tag == "952" else ""
        holdings.append(
            Holding(
                barcode=sub.get("p", "").upper()[:32],
                call_number=call[:100],
                item_type=item_type if item_type in types else Item.Type.BOOK,
                price=price if price is not None and price < Decimal(10) ** 12 else None,
                acquired_on=acquired,
                notes=sub.get("z", "")[:1000],
            )
        )
    return holdings


@dataclass
class Link:
    url: str
    note: str
    link_text: str
    content_type: str


def _own_host() -> str:
    return (urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname or "").lower()


def map_links(record: pymarc.Record) -> list[Link]:
    """856 electronic locations: each http(s) $u with its note ($z), link text ($y, else $3)
    and type ($q). Links to this site's own pages (our own 856 read back) are left out."""
    links, own = [], _own_host()
    for f in record.get_fields("856"):
        sub: dict[str, str] = {}
        for code, value in _subfield_pairs(f):
            sub.setdefault(code, " ".join((value or "").split()))
        for url in f.get_subfields("u"):
            url = url.strip()
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
                continue
            if own and parts.hostname.lower() == own:
                continue
            links.append(
                Link(
                    url=url,
                    note=sub.get("z", "")[:500],
                    link_text=(sub.get("y") or sub.get("3", ""))[:500],
                    content_type=sub.get("q", "")[:100],
                )
            )
    return links


# --------------------------------------------------------------------------- importing


def bulk_insert(model, objs: list, batch_size: int = BATCH_SIZE) -> None:
    """Insert new rows fast: COPY on PostgreSQL (ids drawn from the sequence first, so the
    objects get their pk as with bulk_create), bulk_create elsewhere."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    meta = model._meta
    fields = list(meta.concrete_fields)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        # auto_now(_add) fields are stamped here; every other value is a plain Python value
        # (str, int, Decimal, date, bytes, None) that psycopg adapts itself.
        now = timezone.now()
        stamped = [f.attname for f in fields if getattr(f, "auto_now", False)
                   or getattr(f, "auto_now_add", False)]  # fmt: skip
        names = [f.attname for f in fields]
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                for name in stamped:
                    setattr(obj, name, now)
                copy.write_row([getattr(obj, name) for name in names])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _same_work(existing: Record, fields: dict) -> bool:
    """An ISBN match counts unless both records carry different control numbers of the same
    source: then the cataloguing agency itself says they are two records."""
    return not (
        existing.control_number
        and fields["control_number"]
        and existing.control_number_source == fields["control_number_source"]
        and existing.control_number != fields["control_number"]
    )


class RecordMatcher:
    """Which stored record a described record is: the same control number (001 with 003),
    else the same ISBN-13 (unless both carry different control numbers of one source), else,
    for records with neither, the same fingerprint. MARC import and e-book import use it.

    `probes` are unsaved records with their search text computed (refresh_search_text); the
    candidates of all of them are read in one query.
    """

    def __init__(self, probes: list[Record]):
        self.by_isbn: dict[str, list[Record]] = {}
        self.by_control: dict[tuple[str, str], Record] = {}
        self.by_print: dict[str, Record] = {}
        isbns = {p.isbn for p in probes if p.isbn}
        controls = {p.control_number for p in probes if p.control_number}
        prints = {
            p.fingerprint for p in probes if not p.isbn and not p.control_number and p.fingerprint
        }
        if isbns or controls or prints:
            condition = Q(isbn__in=isbns) | Q(control_number__in=controls)
            condition |= Q(fingerprint__in=prints, isbn="", control_number="")
            for rec in Record.objects.filter(condition).order_by("pk"):
                self.remember(rec)

    def remember(self, rec: Record) -> None:
        """Count `rec` (stored, or about to be) among the candidates of later probes."""
        if rec.isbn and rec not in self.by_isbn.setdefault(rec.isbn, []):
            self.by_isbn[rec.isbn].append(rec)
        if rec.control_number:
            self.by_control.setdefault((rec.control_number, rec.control_number_source), rec)
        if not rec.isbn and not rec.control_number and rec.fingerprint:
            self.by_print.setdefault(rec.fingerprint, rec)

    def match(self, probe: Record) -> tuple[Record | None, str]:
        """The matching record and what matched ("control_number", "isbn", "fingerprint")."""
        fields = {k: getattr(probe, k) for k in ("control_number", "control_number_source")}
        if probe.control_number:
            rec = self.by_control.get((probe.control_number, probe.control_number_source))
            if rec is not None:
                return rec, "control_number"
        if probe.isbn:
            rec = next((r for r in self.by_isbn.get(probe.isbn, []) if _same_work(r, fields)), None)
            if rec is not None:
                return rec, "isbn"
        if not probe.isbn and not probe.control_number and probe.fingerprint:
            rec = self.by_print.get(probe.fingerprint)
            if rec is not None:
                return rec, "fingerprint"
        return None, ""


@dataclass
class _Parsed:
    position: int
    fields: dict
    holdings: list[Holding]
    marc: bytes
    links: list[Link] = field(default_factory=list)


class MarcImporter:
    """Collects parsed records and writes them in batches (bulk_create / bulk_update)."""

    def __init__(self, library: Library, *, batch_size: int = BATCH_SIZE, progress=None):
        self.library = library
        self.batch_size = batch_size
        self.result = ImportResult()
        self.batch: list[_Parsed] = []
        self.progress = progress

    def fail(self, position: int, offset: int | None, reason: str) -> None:
        self.result.failed += 1
        self.result.problems.append(RecordProblem(position, offset, reason))

    def add(self, position: int, record: pymarc.Record, raw: bytes | None = None) -> None:
        try:
            fields = map_record(record)
            holdings = map_holdings(record)
            links = map_links(record)
            # Keep the file's own bytes when they are UTF-8 already; re-encode the others.
            marc = raw if raw is not None else record.as_marc()
        except Exception as exc:  # noqa: BLE001 - a broken field must not stop the file
            self.fail(position, None, _("cannot map the record: %(e)s") % {"e": exc})
            return
        self.batch.append(_Parsed(position, fields, holdings, marc, links))
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            batch, self.batch = self.batch, []
            self._write(batch)

    @transaction.atomic
    def _write(self, batch: list[_Parsed]) -> None:
        probes = []
        for p in batch:
            probe = Record(**p.fields)
            probe.refresh_search_text()
            probes.append(probe)
        matcher = RecordMatcher(probes)

        to_create: list[Record] = []
        to_update: dict[int, Record] = {}
        targets: list[tuple[_Parsed, Record]] = []
        for p, probe in zip(batch, probes, strict=True):
            rec, _how = matcher.match(probe)
            if rec is None:
                probe.marc = p.marc
                probe.source_library = self.library
                to_create.append(probe)
                rec = probe
                self.result.created += 1
            else:
                changed = any(getattr(rec, k) != getattr(probe, k) for k in MAPPED_FIELDS)
                if changed or bytes(rec.marc or b"") != p.marc:
                    for k in MAPPED_FIELDS:
                        setattr(rec, k, getattr(probe, k))
                    rec.marc = p.marc
                    rec.refresh_search_text()
                    if rec.pk is not None:
                        to_update[rec.pk] = rec
                    self.result.updated += 1
                else:
                    self.result.unchanged += 1
            matcher.remember(rec)
            targets.append((p, rec))

        bulk_insert(Record, to_create, self.batch_size)
        if to_update:
            Record.objects.bulk_update(
                list(to_update.values()),
                [*MAPPED_FIELDS, "marc", *SEARCH_FIELDS],
                batch_size=self.batch_size,
            )
        copies_changed = self._write_items(targets)
        self._write_links(targets)
        # Records changed here or whose copies changed: their OAI-PMH datestamp moves (bulk
        # writes skip auto_now), so incremental harvests see them.
        touch_records({*to_update, *copies_changed})

    def _write_links(self, targets: list[tuple[_Parsed, Record]]) -> None:
        """856 links become the record's external e-resources (a link already there stays)."""
        links = [
            ExternalLink(
                record=rec,
                url=link.url,
                note=link.note,
                link_text=link.link_text,
                content_type=link.content_type,
            )
            for p, rec in targets
            for link in p.links
        ]
        if links:
            ExternalLink.objects.bulk_create(links, ignore_conflicts=True)

    def _write_items(self, targets: list[tuple[_Parsed, Record]]) -> set[int]:
        """Add and update the copies; returns the ids of the records whose copies changed."""
        with_holdings = [(p, r) for p, r in targets if p.holdings]
        if not with_holdings:
            return set()
        barcodes = {h.barcode for p, _r in with_holdings for h in p.holdings if h.barcode}
        known = {i.barcode: i for i in Item.objects.filter(barcode__in=barcodes)}
        record_ids = {r.pk for _p, r in with_holdings}
        unbarcoded_counts: dict[int, int] = {}
        for rid in (
            Item.objects.filter(record_id__in=record_ids, library=self.library)
            .exclude(barcode__in=barcodes)
            .values_list("record_id", flat=True)
        ):
            unbarcoded_counts[rid] = unbarcoded_counts.get(rid, 0) + 1
        new_items: list[Item] = []
        changed: list[Item] = []
        left: set[int] = set()  # records a copy moved away from
        wanted_without_barcode: list[tuple[Record, Holding]] = []
        seen: set[str] = set()
        for p, rec in with_holdings:
            for h in p.holdings:
                if h.barcode:
                    if h.barcode in seen:
                        continue
                    seen.add(h.barcode)
                    item = known.get(h.barcode)
                    if item is None:
                        new_items.append(self._item(rec, h, h.barcode))
                    elif item.library_id != self.library.pk:
                        self.result.warnings.append(
                            _(
                                "record %(n)d: barcode %(b)s belongs to another library; "
                                "the copy was not added"
                            )
                            % {"n": p.position, "b": h.barcode}
                        )
                    elif item.record_id != rec.pk or item.call_number != (
                        h.call_number or rec.call_number
                    ):
                        left.add(item.record_id)
                        item.record = rec
                        item.call_number = h.call_number or rec.call_number
                        changed.append(item)
                else:
                    if unbarcoded_counts.get(rec.pk, 0) > 0:
                        unbarcoded_counts[rec.pk] -= 1
                        continue
                    wanted_without_barcode.append((rec, h))
        # Barcodes from the file go in first, so fresh numbers skip any that match them.
        bulk_insert(Item, new_items, self.batch_size)
        fresh = next_barcodes(self.library, len(wanted_without_barcode))
        generated = [
            self._item(rec, h, barcode)
            for (rec, h), barcode in zip(wanted_without_barcode, fresh, strict=True)
        ]
        bulk_insert(Item, generated, self.batch_size)
        new_items += generated
        if changed:
            Item.objects.bulk_update(changed, ["record", "call_number"])
        self.result.items_created += len(new_items)
        self.result.items_updated += len(changed)
        return left | {item.record_id for item in (*new_items, *changed)}

    def _item(self, rec: Record, h: Holding, barcode: str) -> Item:
        return Item(
            record=rec,
            library=self.library,
            location=self.library,
            barcode=barcode,
            call_number=h.call_number or rec.call_number,
            item_type=h.item_type,
            price=h.price,
            acquired_on=h.acquired_on,
            notes=h.notes,
        )


ProgressCallback = Callable[[int, int, ImportResult], None]


def import_marc(
    stream,
    *,
    library: Library,
    file_format: str | None = None,
    encoding: str | None = None,
    total_bytes: int | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Import a binary MARC21 or MARCXML stream into `library`. Returns the counts.

    Refuses an empty or non-MARC file with MarcFileRefused before writing anything.
    `progress(bytes_read, total_bytes, result)` is called after every batch.
    """
    if encoding:
        try:
            "".encode(encoding)
        except LookupError:
            raise MarcFileRefused(_("Unknown encoding “%(e)s”.") % {"e": encoding})
    stream = _Counting(stream)
    head = stream.peek_head(HEAD_BYTES)
    detected = detect_format(head)
    file_format = file_format or detected
    if file_format != detected:
        if detected == "marcxml":
            raise MarcFileRefused(_("This file is MARCXML; choose the MARCXML format."))
        raise MarcFileRefused(_("This file is binary MARC21, not MARCXML."))
    importer = MarcImporter(library, batch_size=batch_size)

    def report():
        if progress:
            progress(stream.consumed, total_bytes or 0, importer.result)

    if file_format == "marcxml":

        def take(position, record):
            importer.add(position, record)
            if position % batch_size == 0:
                report()

        handler = _XmlRecords(take)
        try:
            pymarc.parse_xml(stream, handler)
        except xml.sax.SAXParseException as exc:
            importer.fail(
                handler.count + 1,
                None,
                _("broken XML at line %(line)s: %(e)s")
                % {"line": exc.getLineNumber(), "e": exc.getMessage()},
            )
        if handler.count == 0 and not importer.result.failed:
            raise MarcFileRefused(_("No MARCXML records were found in this file."))
    else:
        for position, offset, record, raw, problem in read_binary(stream, encoding=encoding):
            if record is None:
                importer.fail(position, offset, problem)
            else:
                importer.add(position, record, raw)
            if position % batch_size == 0:
                report()
    importer.flush()
    report()
    return importer.result


class _Counting(io.RawIOBase):
    """Wraps a binary stream, counting bytes read, and lets us peek at the head once."""

    def __init__(self, stream):
        self.stream = stream
        self.consumed = 0
        self._head = b""

    def peek_head(self, n: int) -> bytes:
        self._head = self.stream.read(n)
        return self._head

    def readable(self):
        return True

    def read(self, n=-1):
        if self._head:
            if n is None or n < 0:
                data = self._head + self.stream.read()
                self._head = b""
            else:
                data, self._head = self._head[:n], self._head[n:]
                if len(data) < n:
                    data += self.stream.read(n - len(data))
        else:
            data = self.stream.read(n)
        self.consumed += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# --------------------------------------------------------------------------- exporting


def records_of(library: Library):
    """Records a library catalogued (imported) or holds items of."""
    held = Item.objects.filter(library=library).values("record_id")
    return Record.objects.filter(Q(source_library=library) | Q(pk__in=held)).order_by("pk")


def _nfc_record(record: pymarc.Record) -> pymarc.Record:
    for f in record.fields:
        if f.is_control_field():
            f.data = unicodedata.normalize("NFC", f.data)
        else:
            f.subfields = [
                pymarc.Subfield(s.code, unicodedata.normalize("NFC", s.value)) for s in f.subfields
            ]
    return record


def record_to_marc(record: Record, library: Library | None = None) -> pymarc.Record:
    """The record as MARC21 (UTF-8): its stored MARC, corrected by later edits, plus holdings."""
    marc = None
    if record.marc:
        try:
            marc = pymarc.Record(data=bytes(record.marc), force_utf8=True)
        except Exception:  # noqa: BLE001 - a damaged stored copy is rebuilt from the fields
            marc = None
    if marc is None:
        marc = pymarc.Record(force_utf8=True, leader="     nam a22     7a 4500")
    marc.leader = pymarc.Leader(str(marc.leader)[:9] + "a" + str(marc.leader)[10:])
    marc.force_utf8 = True
    _nfc_record(marc)
    current = {k: getattr(record, k) for k in MAPPED_FIELDS}
    if map_record(marc) != current:
        _rewrite_fields(marc, record)
    marc.remove_fields("852", "952")
    _add_digital_links(marc, record)
    if library is not None:
        items = getattr(record, "library_items", None)
        if items is None:
            items = record.items.filter(library=library).select_related("location").order_by("pk")
        for item in items:
            subfields = [
                pymarc.Subfield("a", library.code),
                pymarc.Subfield("b", item.location.code if item.location_id else library.code),
                pymarc.Subfield("p", item.barcode),
                pymarc.Subfield("y", item.item_type),
            ]
            if item.call_number:
                subfields.append(pymarc.Subfield("o", item.call_number))
            if item.price is not None:
                subfields.append(pymarc.Subfield("g", str(item.price)))
            if item.acquired_on:
                subfields.append(pymarc.Subfield("d", item.acquired_on.isoformat()))
            marc.add_ordered_field(
                pymarc.Field(tag="952", indicators=[" ", " "], subfields=subfields)
            )
    return marc


def _access_note(file: DigitalFile) -> str:
    if file.access == DigitalFile.Access.OPEN:
        return _("Open access: read online or download.")
    if file.access == DigitalFile.Access.MEMBERS:
        return _("For members of the library network (log in).")
    if file.access == DigitalFile.Access.CARDHOLDERS:
        codes = ", ".join(lib.code for lib in file.cardholder_libraries.all())
        return _("For card holders of: %(libraries)s.") % {"libraries": codes}
    return _("Lending: %(count)d licences; borrow with a reader card of %(library)s.") % {
        "count": file.licences,
        "library": file.library.code,
    }


def _add_digital_links(marc: pymarc.Record, record: Record) -> None:
    """An 856 4 0 per digital file: the record page ($u), the access note ($z), the file
    type ($q) and format ($3). 856s pointing at this site's pages are replaced, not doubled.
    Pass records with `digital_list` prefetched (export_marc does) to save a query each."""
    own = _own_host()
    for f in marc.get_fields("856"):
        if own and any((urlsplit(u).hostname or "").lower() == own for u in f.get_subfields("u")):
            marc.remove_field(f)
    files = getattr(record, "digital_list", None)
    if files is None:
        files = list(
            DigitalFile.objects.filter(record=record).select_related("library").order_by("pk")
        )
    if not files:
        return
    page = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
        "libraries:record_detail", args=[record.pk]
    )
    S = pymarc.Subfield
    for file in files:
        material = file.get_kind_display() + (f" ({file.label})" if file.label else "")
        marc.add_ordered_field(
            pymarc.Field(
                tag="856",
                indicators=["4", "0"],
                subfields=[
                    S("3", str(material)),
                    S("q", file.content_type),
                    S("u", page),
                    S("z", str(_access_note(file))),
                ],
            )
        )


def _rewrite_fields(marc: pymarc.Record, record: Record) -> None:
    """Replace the mapped fields by ones built from the record's current values."""
    marc.remove_fields("001", "003", *MAPPED_TAGS)
    add = marc.add_ordered_field
    if record.control_number:
        add(pymarc.Field(tag="001", data=record.control_number))
        if record.control_number_source:
            add(pymarc.Field(tag="003", data=record.control_number_source))
    f008 = marc.get("008")
    if f008 is not None and len(f008.data) >= 38:
        year = f"{record.year:04d}" if record.year else "    "
        lang = (record.language or "   ").ljust(3)[:3]
        f008.data = f008.data[:7] + year + f008.data[11:35] + lang + f008.data[38:]
    elif record.language or record.year:
        year = f"{record.year:04d}" if record.year else "    "
        lang = (record.language or "und").ljust(3)[:3]
        marc.remove_fields("008")
        add(pymarc.Field(tag="008", data=f"      s{year}    xx            000 0 {lang} d"))
    S = pymarc.Subfield
    if record.isbn:
        add(pymarc.Field(tag="020", indicators=[" ", " "], subfields=[S("a", record.isbn)]))
    if record.call_number:
        add(pymarc.Field(tag="082", indicators=["0", "4"], subfields=[S("a", record.call_number)]))
    names = [n.strip() for n in record.authors.split(";") if n.strip()]
    for i, name in enumerate(names):
        add(pymarc.Field(tag="100" if i == 0 else "700", indicators=["1", " "],
                         subfields=[S("a", name)]))  # fmt: skip
    title = [S("a", record.title)]
    if record.subtitle:
        title.append(S("b", record.subtitle))
    add(pymarc.Field(tag="245", indicators=["1" if names else "0", "0"], subfields=title))
    imprint = []
    if record.place:
        imprint.append(S("a", record.place))
    if record.publisher:
        imprint.append(S("b", record.publisher))
    if record.year:
        imprint.append(S("c", str(record.year)))
    if imprint:
        add(pymarc.Field(tag="260", indicators=[" ", " "], subfields=imprint))
    if record.summary:
        add(pymarc.Field(tag="520", indicators=[" ", " "], subfields=[S("a", record.summary)]))
    for subject in record.subject_list:
        parts = subject.split(" -- ")
        subfields = [S("a", parts[0])] + [S("x", p) for p in parts[1:]]
        add(pymarc.Field(tag="650", indicators=[" ", "4"], subfields=subfields))


def export_marc(out, *, library: Library, file_format: str = "marc") -> int:
    """Write the library's records to the binary stream `out`. Returns the number written."""
    count = 0
    if file_format == "marcxml":
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(b'<collection xmlns="http://www.loc.gov/MARC21/slim">\n')
    copies = Prefetch(
        "items",
        queryset=Item.objects.filter(library=library).select_related("location").order_by("pk"),
        to_attr="library_items",
    )
    files = Prefetch(
        "digital_files",
        queryset=DigitalFile.objects.select_related("library")
        .prefetch_related("cardholder_libraries")
        .order_by("pk"),
        to_attr="digital_list",
    )
    for record in records_of(library).prefetch_related(copies, files).iterator(chunk_size=500):
        marc = record_to_marc(record, library)
        if file_format == "marcxml":
            out.write(pymarc.record_to_xml(marc, namespace=False))
            out.write(b"\n")
        else:
            out.write(marc.as_marc())
        count += 1
    if file_format == "marcxml":
        out.write(b"</collection>\n")
    return count
