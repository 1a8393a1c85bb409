"""Small MARC records built in memory for tests."""

import io

import pymarc

from tests.fixture_files import FIXTURES as FIXTURE_ROOT

FIXTURES = FIXTURE_ROOT / "marc"


def build(
    *,
    title,
    author="",
    isbn="",
    control="",
    source="",
    publisher="",
    year="",
    holdings=(),
    leader_encoding="a",
):
    record = pymarc.Record(force_utf8=True, leader=f"00000nam {leader_encoding}2200000 a 4500")
    if control:
        record.add_field(pymarc.Field(tag="001", data=control))
    if source:
        record.add_field(pymarc.Field(tag="003", data=source))
    S = pymarc.Subfield
    if isbn:
        record.add_field(pymarc.Field(tag="020", indicators=[" ", " "], subfields=[S("a", isbn)]))
    if author:
        record.add_field(pymarc.Field(tag="100", indicators=["1", " "], subfields=[S("a", author)]))
    record.add_field(pymarc.Field(tag="245", indicators=["1", "0"], subfields=[S("a", title)]))
    if publisher or year:
        record.add_field(
            pymarc.Field(
                tag="260",
                indicators=[" ", " "],
                subfields=[S("b", publisher), S("c", str(year))],
            )
        )
    for barcode, call in holdings:
        subfields = [S("o", call)] + ([S("p", barcode)] if barcode else [])
        record.add_field(pymarc.Field(tag="952", indicators=[" ", " "], subfields=subfields))
    return record


def to_bytes(*records, encoding="utf-8") -> bytes:
    """Binary MARC; with another encoding the leader says MARC-8 (blank) and the bytes lie."""
    out = io.BytesIO()
    for record in records:
        if encoding == "utf-8":
            out.write(record.as_marc())
        else:
            out.write(_encode(record, encoding))
    return out.getvalue()


def _encode(record, encoding):
    record.leader = pymarc.Leader(str(record.leader)[:9] + " " + str(record.leader)[10:])
    fields, directory, offset = b"", b"", 0
    for field in record.fields:
        data = (
            field.data.encode(encoding) + b"\x1e"
            if field.is_control_field()
            else (
                "".join(field.indicators).encode()
                + b"".join(
                    b"\x1f" + s.code.encode() + s.value.encode(encoding) for s in field.subfields
                )
                + b"\x1e"
            )
        )
        directory += f"{field.tag}{len(data):04d}{offset:05d}".encode()
        fields += data
        offset += len(data)
    base = 24 + len(directory) + 1
    length = base + len(fields) + 1
    leader = f"{length:05d}" + str(record.leader)[5:12] + f"{base:05d}" + str(record.leader)[17:]
    return leader.encode() + directory + b"\x1e" + fields + b"\x1d"
