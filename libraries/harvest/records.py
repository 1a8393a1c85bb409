"""What a harvested record says: MARCXML or Dublin Core to the catalog's fields, and the
copies its holdings fields describe.

Holdings (MARCXML only): Koha's 952 ($9 item number, $p barcode, $o call number, $y item
type, else the record's 942 $c; $0 withdrawn, $1 lost, $4 damaged, $7 not for loan; $a/$b
home and holding branch are the source's own codes: the copies belong to the source's
library) and MARC 852 ($p barcode, $h/$i call number). A source harvested by a set
"library:CODE" (another instance of this site, whose records carry every member library's
copies) takes only the 952 whose home branch $a is CODE. Statuses follow Koha's authorised
values: LOST 4 and 5 are "missing", any other non-zero LOST is lost; a negative NOT_LOAN
(ordered, being processed) is "in process", a positive one (not for loan) makes the copy a
reference copy. The descriptive fields are read by the MARC import's own mapping; a 001
without 003 (or with Koha's default 003 "OSt") is the source system's own number and is not
kept as the record's control number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pymarc
from django.utils.translation import gettext as _

from libraries.catalog.marc import MAPPED_FIELDS, map_holdings, map_record
from libraries.models import HarvestSource, Item
from training_site.text import nfc, normalise_isbn

MARC_NS = "http://www.loc.gov/MARC21/slim"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
KOHA_DEFAULT_AGENCY = "OSt"  # Koha's installer value of MARCOrgCode (003): names nobody
_TAG = re.compile(r"^[0-9A-Za-z]{3}$")
_YEAR = re.compile(r"(1[4-9]\d\d|20\d\d|21\d\d)")
# Koha's default item types (installer) and our own (what our provider writes in 952 $y).
ITEM_TYPES = {
    "bk": Item.Type.BOOK,
    "ref": Item.Type.REFERENCE,
    "cr": Item.Type.PERIODICAL,
    "cf": Item.Type.MEDIA,
    "mu": Item.Type.MEDIA,
    "vm": Item.Type.MEDIA,
    "sgk": Item.Type.TEXTBOOK,
    **{value: value for value in Item.Type.values},
}
# ISO 639-1 codes found in Dublin Core, to the MARC (639-2/B) codes records carry.
LANGUAGES = {"vi": "vie", "en": "eng", "fr": "fre", "zh": "chi", "ru": "rus", "de": "ger",
             "ja": "jpn", "ko": "kor", "lo": "lao", "km": "khm", "th": "tha"}  # fmt: skip


class RecordRefused(Exception):
    """This record cannot be taken; the reason is for staff and the run's report."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Copy:
    key: str
    barcode: str
    call_number: str
    item_type: str
    status: str
    price: Decimal | None = None
    acquired_on: date | None = None
    notes: str = ""


@dataclass
class HarvestedMetadata:
    fields: dict
    copies: list[Copy] = field(default_factory=list)
    marc: bytes | None = None


def branch_of(set_spec: str) -> str:
    """The home branch a set names ("library:CODE" -> CODE), else ""."""
    kind, _sep, code = set_spec.partition(":")
    return code if kind == "library" and code else ""


def read_metadata(element, prefix: str, *, branch: str = "") -> HarvestedMetadata:
    """The record in a <metadata> element, as the source's format says it should be."""
    if prefix in HarvestSource.MARC_PREFIXES:
        if element.tag != f"{{{MARC_NS}}}record":
            raise RecordRefused(_("the metadata is not a MARCXML record"))
        return read_marcxml(element, branch=branch)
    if element.tag != f"{{{OAI_DC_NS}}}dc":
        raise RecordRefused(_("the metadata is not a Dublin Core record"))
    return read_dc(element)


# --------------------------------------------------------------------------- MARCXML


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def marc_of(element) -> pymarc.Record:
    """A MARCXML <record> element to a pymarc record, refusing what MARC cannot hold."""
    record = pymarc.Record(force_utf8=True)
    leader = None
    for child in element:
        name = _local(child.tag)
        if name == "leader":
            leader = (child.text or "").replace("\n", "")
        elif name == "controlfield":
            tag = child.get("tag", "")
            if not _TAG.match(tag):
                raise RecordRefused(_("a control field with the tag “%(tag)s”") % {"tag": tag})
            record.add_field(pymarc.Field(tag=tag, data=nfc(child.text or "")))
        elif name == "datafield":
            tag = child.get("tag", "")
            if not _TAG.match(tag):
                raise RecordRefused(_("a data field with the tag “%(tag)s”") % {"tag": tag})
            indicators = [child.get("ind1", " ") or " ", child.get("ind2", " ") or " "]
            if any(len(i) != 1 for i in indicators):
                raise RecordRefused(_("field %(tag)s has a bad indicator") % {"tag": tag})
            subfields = []
            for sub in child:
                if _local(sub.tag) != "subfield":
                    continue
                code = sub.get("code", "")
                if len(code) != 1:
                    raise RecordRefused(
                        _("field %(tag)s has a subfield code “%(code)s”")
                        % {"tag": tag, "code": code}
                    )
                subfields.append(pymarc.Subfield(code, nfc(sub.text or "")))
            record.add_field(pymarc.Field(tag=tag, indicators=indicators, subfields=subfields))
    if leader is None or len(leader) != 24:
        raise RecordRefused(_("the MARC record has no valid leader (24 characters)"))
    if not record.fields:
        raise RecordRefused(_("the MARC record has no fields"))
    record.leader = pymarc.Leader(leader[:9] + "a" + leader[10:])
    return record


def read_marcxml(element, *, branch: str = "") -> HarvestedMetadata:
    record = marc_of(element)
    try:
        fields = map_record(record)
    except Exception as exc:  # noqa: BLE001 - a broken field must not stop the run
        raise RecordRefused(_("cannot map the record: %(e)s") % {"e": exc})
    if not record.get_fields("245"):
        raise RecordRefused(_("the record has no title (245)"))
    if fields["control_number_source"] in ("", KOHA_DEFAULT_AGENCY):
        # The source system's own record number (Koha's biblionumber): it identifies nothing
        # in the union catalog, and kept it would match another system's number 1.
        fields["control_number"] = fields["control_number_source"] = ""
    copies = copies_of(record, branch=branch)
    record.remove_fields("852", "952")  # copies are per library; the stored MARC is shared
    try:
        marc = record.as_marc()
    except Exception as exc:  # noqa: BLE001 - e.g. longer than MARC's 99,999 bytes
        raise RecordRefused(_("the record cannot be stored as MARC21: %(e)s") % {"e": exc})
    if len(marc) > 99999:
        raise RecordRefused(_("the record is longer than MARC21 allows (99,999 bytes)"))
    return HarvestedMetadata(fields=fields, copies=copies, marc=marc)


def _status(sub: dict) -> str:
    def number(code: str) -> int:
        try:
            return int(sub.get(code, "0") or "0")
        except ValueError:
            return 1  # a non-numeric status is set, whatever it says

    if number("0"):
        return Item.Status.WITHDRAWN
    lost = number("1")
    if lost in (4, 5):
        return Item.Status.MISSING
    if lost:
        return Item.Status.LOST
    if number("4"):
        return Item.Status.DAMAGED
    if number("7") < 0:
        return Item.Status.IN_PROCESS
    return Item.Status.AVAILABLE


def copies_of(record: pymarc.Record, *, branch: str = "") -> list[Copy]:
    """The copies of 952 and 852 fields, in order, each with a key that finds it again;
    with `branch`, only the 952 of that home branch (or of none)."""
    default_type = ""
    for f in record.get_fields("942"):
        default_type = default_type or (f.get("c") or "")
    holdings = map_holdings(record)  # barcode, call number, price, date, note
    copies = []
    unkeyed = 0
    for f, held in zip(record.get_fields("952", "852"), holdings, strict=True):
        sub = {}
        for s in f.subfields:
            sub.setdefault(s.code, s.value.strip())
        if f.tag == "952" and branch and sub.get("a", branch) != branch:
            continue
        if f.tag == "952":
            raw_type = (sub.get("y") or default_type).strip().lower()
            item_type = ITEM_TYPES.get(raw_type, Item.Type.BOOK)
            status = _status(sub)
            try:
                not_for_loan = int(sub.get("7", "0") or "0") > 0
            except ValueError:
                not_for_loan = True
            if not_for_loan:
                item_type = Item.Type.REFERENCE
            number = sub.get("9", "")
        else:
            item_type, status, number = Item.Type.BOOK, Item.Status.AVAILABLE, ""
        if number:
            key = f"9:{number}"
        elif held.barcode:
            key = f"p:{held.barcode}"
        else:
            unkeyed += 1
            key = f"n:{unkeyed}"
        copies.append(
            Copy(
                key=key[:100],
                barcode=held.barcode,
                call_number=held.call_number,
                item_type=item_type,
                status=status,
                price=held.price,
                acquired_on=held.acquired_on,
                notes=held.notes,
            )
        )
    return copies


# --------------------------------------------------------------------------- Dublin Core


def read_dc(element) -> HarvestedMetadata:
    values: dict[str, list[str]] = {}
    for child in element:
        if isinstance(child.tag, str) and child.tag.startswith(f"{{{DC_NS}}}"):
            text = " ".join((child.text or "").split())
            if text:
                values.setdefault(_local(child.tag), []).append(nfc(text))

    def first(name: str) -> str:
        return (values.get(name) or [""])[0]

    full_title = first("title")
    if not full_title:
        raise RecordRefused(_("the Dublin Core record has no title"))
    title, _sep, subtitle = full_title.partition(": ")
    year = None
    for value in values.get("date", []):
        match = _YEAR.search(value)
        if match:
            year = int(match.group(1))
            break
    language = first("language").lower()
    language = LANGUAGES.get(language, language if len(language) == 3 else "")
    isbn = ""
    for value in values.get("identifier", []):
        candidate = re.sub(r"^(?:urn:)?isbn:?\s*", "", value, flags=re.IGNORECASE)
        isbn = normalise_isbn(candidate) or ""
        if isbn:
            break
    fields = dict.fromkeys(MAPPED_FIELDS, "")
    fields.update(
        {
            "title": title[:500],
            "subtitle": subtitle[:500],
            "authors": "; ".join(values.get("creator", []))[:500],
            "publisher": first("publisher")[:300],
            "year": year,
            "isbn": isbn,
            "language": language if language.isalpha() else "",
            "subjects": "\n".join(values.get("subject", [])),
            "summary": "\n".join(values.get("description", [])),
        }
    )
    return HarvestedMetadata(fields=fields)
