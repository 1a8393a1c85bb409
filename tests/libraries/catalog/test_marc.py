import io
import re
import unicodedata

import pymarc
import pytest
from django.core.management import CommandError, call_command

from libraries.catalog.marc import (
    MAPPED_FIELDS,
    MarcFileRefused,
    detect_format,
    export_marc,
    import_marc,
    records_of,
)
from libraries.models import Item, Record
from tests.factories import LibraryFactory
from tests.libraries.catalog.marc_builders import FIXTURES, build, to_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def run(data: bytes, library, **kwargs):
    return import_marc(io.BytesIO(data), library=library, **kwargs)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def notes(record: Record) -> list[str]:
    """The 500 notes of the record's stored MARC (where the LC test records keep letters)."""
    marc = pymarc.Record(data=bytes(record.marc), force_utf8=True)
    return [
        unicodedata.normalize("NFC", v)
        for f in marc.get_fields("500")
        for v in f.get_subfields("a")
    ]


@pytest.mark.parametrize(
    ("name", "created", "items"),
    [
        ("evergreen_lul_fre_500.mrc", 500, 0),
        ("marc4j_brkrtest_UTF8.mrc", 8, 0),
        ("marc4j_brkrtest_marc8.mrc", 8, 0),
        ("marc4j_pride-and-prejudice-fixed.mrc", 358, 178),
        ("traject_test_data.utf8.mrc", 30, 0),
        ("traject_test_data.utf8.marc.xml", 30, 0),
    ],
)
def test_every_fixture_imports_without_failures(name, created, items):
    library = LibraryFactory(code="TVT")
    result = run(fixture(name), library)
    assert (result.created, result.failed, result.problems) == (created, 0, [])
    assert Record.objects.count() == created
    assert Item.objects.filter(library=library).count() == items
    # Text is stored NFC and the search columns are filled.
    for record in Record.objects.all():
        for value in (record.title, record.authors, record.publisher, record.subjects):
            assert value == unicodedata.normalize("NFC", value)
        assert record.search_folded.startswith(" ") and record.search_folded.endswith(" ")
        # Folding drops accents, never letters: Latin words are plain ASCII, other scripts stay.
        for word in record.search_folded.split():
            assert word.isascii() or not any("a" <= ch <= "z" for ch in word), word


def test_marc8_french_accents_are_decoded():
    run(fixture("evergreen_lul_fre_500.mrc"), LibraryFactory())
    record = Record.objects.get(control_number="01-0211801")
    assert record.title == "L'autre monde, mythes et légendes"
    assert record.authors == "Félice, Philippe de"
    assert (record.year, record.language) == (1906, "fre")
    assert Record.objects.get(control_number="01-0212043").title == (
        "Histoire générale de la Société des Missions-étrangères"
    )


def test_marc8_and_utf8_versions_give_identical_vietnamese_text():
    library = LibraryFactory()
    run(fixture("marc4j_brkrtest_marc8.mrc"), library)
    marc8 = {
        r.control_number: (r.title, r.authors, r.subjects, notes(r)) for r in Record.objects.all()
    }
    Record.objects.all().delete()
    run(fixture("marc4j_brkrtest_UTF8.mrc"), library)
    utf8 = {
        r.control_number: (r.title, r.authors, r.subjects, notes(r)) for r in Record.objects.all()
    }
    assert marc8.keys() == utf8.keys() and len(marc8) == 8
    all_notes = [n for values in utf8.values() for n in values[3]]
    for expected in (
        "the uppercase D with crossbar in Đuro",
        "the lowercase d with crossbar in đavola",
        "the uppercase O-hook in BƠ",
        "the uppercase U-hook in XƯA",
        "the lowercase o-hook (with pseudo question mark) in Sở",
        "the lowercase u-hook in Tư Dưc",
        "the pseudo question mark in củi",
    ):
        assert expected in all_notes
    for key in utf8:
        title, authors, subjects, utf8_notes = utf8[key]
        assert marc8[key][:3] == (title, authors, subjects)
        # The two files use different code points for ligature and double-tilde halves
        # (MARC-8 maps them to U+FE20..FE23); every other note is the same text.
        same = [(a, b) for a, b in zip(marc8[key][3], utf8_notes, strict=True)
                if "halves" not in a]  # fmt: skip
        assert all(a == b for a, b in same)


def test_record_claiming_marc8_but_in_utf8_is_read_as_utf8():
    record = build(title="Đường về quê hương", author="Nguyễn Nhật Ánh", isbn="9786041234564")
    data = bytearray(to_bytes(record))
    data[9] = ord(" ")  # the leader now claims MARC-8
    result = run(bytes(data), LibraryFactory())
    assert (result.created, result.failed) == (1, 0)
    saved = Record.objects.get()
    assert (saved.title, saved.authors) == ("Đường về quê hương", "Nguyễn Nhật Ánh")
    assert bytes(saved.marc)[9:10] == b"a"


def test_encoding_option_overrides_the_leader():
    record = build(title="Война и мир", author="Толстой, Лев")
    data = to_bytes(record, encoding="cp1251")
    result = run(data, LibraryFactory(), encoding="cp1251")
    assert (result.created, result.failed) == (1, 0)
    assert Record.objects.get().title == "Война и мир"


def test_unknown_encoding_is_refused():
    with pytest.raises(MarcFileRefused, match="Unknown encoding"):
        run(fixture("marc4j_brkrtest_UTF8.mrc"), LibraryFactory(), encoding="no-such-codec")


def _records(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        length = int(data[pos : pos + 5])
        out.append(data[pos : pos + length])
        pos += length
    return out


def test_truncated_file_keeps_the_good_records_and_reports_the_last():
    raws = _records(fixture("marc4j_brkrtest_UTF8.mrc"))
    data = b"".join(raws[:-1]) + raws[-1][: len(raws[-1]) // 2]
    result = run(data, LibraryFactory())
    assert (result.created, result.failed) == (7, 1)
    problem = result.problems[0]
    assert problem.position == 8
    assert problem.offset == sum(len(r) for r in raws[:-1])
    assert "truncated" in problem.reason


def test_corrupt_records_in_the_middle_are_reported_and_the_others_kept():
    raws = _records(fixture("marc4j_brkrtest_UTF8.mrc"))
    bad_leader = b"xx" + raws[2][2:]  # length is not a number
    bad_length = b"%05d" % (len(raws[5]) - 40) + raws[5][5:]  # length points inside the record
    data = b"".join([*raws[:2], bad_leader, *raws[3:5], bad_length, *raws[6:]])
    result = run(data, LibraryFactory())
    assert (result.created, result.failed) == (6, 2)
    assert [p.position for p in result.problems] == [3, 6]
    assert "not a number" in result.problems[0].reason
    assert "corrupt length" in result.problems[1].reason
    assert Record.objects.filter(control_number="tes96000008").exists()
    assert not Record.objects.filter(control_number="tes96000003").exists()


def test_invalid_utf8_in_a_record_that_claims_utf8_is_reported():
    good = to_bytes(build(title="Một", control="1"))
    bad = bytearray(to_bytes(build(title="Hai xx", control="2")))
    bad[bad.index(b"Hai xx") + 4] = 0xFF
    third = to_bytes(build(title="Ba", control="3"))
    result = run(good + bytes(bad) + third, LibraryFactory())
    assert (result.created, result.failed) == (2, 1)
    assert result.problems[0].position == 2
    assert "invalid characters" in result.problems[0].reason


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"\n\n", "empty"), (b"Hello, this is a text file" * 3, "not a MARC21")],
)
def test_empty_or_non_marc_files_are_refused(data, message):
    with pytest.raises(MarcFileRefused, match=message):
        run(data, LibraryFactory())
    assert Record.objects.count() == 0


def test_marcxml_announced_as_binary_is_refused():
    with pytest.raises(MarcFileRefused, match="MARCXML"):
        run(fixture("traject_test_data.utf8.marc.xml"), LibraryFactory(), file_format="marc")


def test_reimporting_the_same_file_adds_nothing():
    library = LibraryFactory()
    first = run(fixture("marc4j_pride-and-prejudice-fixed.mrc"), library)
    records, items = Record.objects.count(), Item.objects.count()
    barcodes = set(Item.objects.values_list("barcode", flat=True))
    second = run(fixture("marc4j_pride-and-prejudice-fixed.mrc"), library)
    assert first.created == records and second.created == 0 and second.items_created == 0
    assert (Record.objects.count(), Item.objects.count()) == (records, items)
    assert set(Item.objects.values_list("barcode", flat=True)) == barcodes
    assert second.failed == 0


def test_matching_on_isbn_control_number_and_fingerprint():
    library = LibraryFactory()
    run(
        to_bytes(
            build(title="Toán 6", isbn="0-306-40615-2"),
            build(title="Ngữ văn 6", control="VN001", source="KB"),
            build(title="Tiếng Việt 1", author="Bộ Giáo dục", publisher="NXB Giáo dục", year=2020),
        ),
        library,
    )
    assert Record.objects.get(title="Toán 6").isbn == "9780306406157"
    result = run(
        to_bytes(
            build(title="Toán 6 (tái bản)", isbn="9780306406157"),
            build(title="Ngữ văn 6 (mới)", control="VN001", source="KB"),
            build(title="Tieng Viet 1", author="Bo Giao duc", publisher="NXB Giao duc", year=2020),
            build(title="Ngữ văn 6", control="VN001", source="OTHER"),
        ),
        library,
    )
    assert (result.created, result.updated) == (1, 3)
    assert Record.objects.count() == 4
    assert Record.objects.get(isbn="9780306406157").title == "Toán 6 (tái bản)"
    assert Record.objects.get(control_number="VN001", control_number_source="KB").title == (
        "Ngữ văn 6 (mới)"
    )
    assert Record.objects.filter(title="Tieng Viet 1").count() == 1


def test_holdings_become_items_of_the_library_and_barcodes_are_kept():
    library = LibraryFactory(code="THCSA")
    data = to_bytes(
        build(
            title="Dế Mèn phiêu lưu ký",
            isbn="9786042000014",
            holdings=[("THCSA0000001", "895.922 T"), ("", "895.922 T")],
        ),  # fmt: skip
    )
    result = run(data, library)
    assert result.items_created == 2
    items = Item.objects.order_by("barcode")
    assert [i.barcode for i in items] == ["THCSA0000001", "THCSA0000002"]
    assert {(i.library_id, i.location_id, i.call_number) for i in items} == {
        (library.pk, library.pk, "895.922 T")
    }
    again = run(data, library)
    assert again.items_created == 0 and Item.objects.count() == 2


def test_barcode_of_another_library_is_not_taken_over():
    mine, other = LibraryFactory(code="HBT"), LibraryFactory(code="DDA")
    run(to_bytes(build(title="A", control="1", holdings=[("DDA0000009", "")])), other)
    result = run(to_bytes(build(title="A", control="1", holdings=[("DDA0000009", "")])), mine)
    assert result.items_created == 0
    assert "DDA0000009" in result.warnings[0]
    assert Item.objects.get().library == other


def test_export_then_import_round_trips(tmp_path):
    source = LibraryFactory(code="TVT")
    run(fixture("marc4j_pride-and-prejudice-fixed.mrc"), source)
    run(fixture("evergreen_lul_fre_500.mrc"), source)
    fields = MAPPED_FIELDS
    before = sorted(Record.objects.values_list(*fields))
    items_before = sorted(Item.objects.values_list("barcode", "call_number", "record__title"))
    for file_format in ("marc", "marcxml"):
        out = io.BytesIO()
        assert export_marc(out, library=source, file_format=file_format) == len(before)
        Item.objects.all().delete()
        Record.objects.all().delete()
        result = run(out.getvalue(), source)
        assert (result.created, result.failed) == (len(before), 0)
        assert sorted(Record.objects.values_list(*fields)) == before
        assert sorted(Item.objects.values_list("barcode", "call_number", "record__title")) == (
            items_before
        )


def test_export_writes_edited_fields_and_records_held_by_the_library():
    library = LibraryFactory(code="THE")
    run(to_bytes(build(title="Cũ", control="X1", year=2001)), library)
    record = Record.objects.get()
    record.title = "Mới sửa"
    record.save()
    held = Record.objects.create(title="Chỉ có bản sao", authors="Tô Hoài")
    Item.objects.create(record=held, library=library, barcode="THE0000777")
    assert set(records_of(library)) == {record, held}
    out = io.BytesIO()
    export_marc(out, library=library)
    exported = list(pymarc.MARCReader(out.getvalue(), to_unicode=True))
    assert sorted(r["245"]["a"] for r in exported) == ["Chỉ có bản sao", "Mới sửa"]
    copy = next(r for r in exported if r["245"]["a"] == "Chỉ có bản sao")
    assert copy["952"]["p"] == "THE0000777" and copy.leader[9] == "a"


def test_command_prints_counts_and_fails_when_a_record_failed(tmp_path, capsys):
    LibraryFactory(code="HBT")
    raws = _records(fixture("marc4j_brkrtest_UTF8.mrc"))
    path = tmp_path / "broken.mrc"
    path.write_bytes(b"".join(raws[:-1]) + raws[-1][:100])
    with pytest.raises(CommandError) as excinfo:
        call_command("import_marc", str(path), "--library", "HBT", "--no-progress")
    assert excinfo.value.returncode == 2
    out, err = capsys.readouterr()
    assert "created: 7, updated: 0, unchanged: 0, failed: 1" in out
    assert "record 8" in err and "truncated" in err


def test_command_imports_and_exports(tmp_path, capsys):
    LibraryFactory(code="HBT")
    call_command(
        "import_marc", str(FIXTURES / "traject_test_data.utf8.marc.xml"), "--library", "hbt",
        "--format", "marcxml", "--no-progress",
    )  # fmt: skip
    assert "created: 30, updated: 0, unchanged: 0, failed: 0" in capsys.readouterr().out
    target = tmp_path / "out.mrc"
    call_command("export_marc", "--library", "HBT", "-o", str(target))
    assert len(list(pymarc.MARCReader(target.read_bytes()))) == 30


def test_command_refuses_non_marc_and_unknown_library(tmp_path):
    LibraryFactory(code="HBT")
    text = tmp_path / "notes.txt"
    text.write_text("không phải MARC")
    with pytest.raises(CommandError, match="not a MARC21 file"):
        call_command("import_marc", str(text), "--library", "HBT", "--no-progress")
    with pytest.raises(CommandError, match="No library"):
        call_command("import_marc", str(text), "--library", "NOPE", "--no-progress")


@pytest.mark.parametrize(
    ("head", "detected"),
    [
        (b'<?xml version="1.0"?>\n<!-- export -->\n<marc:collection xmlns:marc="x">', "marcxml"),
        (b"\xef\xbb\xbf<record>", "marcxml"),
        (b"00026nam  2200025   4500\x1e\x1d", "marc"),
    ],
)
def test_detect_format_recognises_marc21_and_marcxml(head, detected):
    assert detect_format(head) == detected


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"<html><body>", "web page or an image"),
        (b"<!doctype html>", "web page or an image"),
        (b"<SVG xmlns='http://www.w3.org/2000/svg'>", "web page or an image"),
        (b"<?xml version='1.0'?><!DOCTYPE r SYSTEM 'file:///etc/passwd'><record>", "DTD"),
        (b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'>", "<feed>"),
        (b"<!-- a comment that never ends", "no MARCXML <collection>"),
        # A leader whose base address does not end the directory with a field terminator.
        (b"00100nam  2200030   4500" + b"x" * 80, "24-character leader"),
    ],
)
def test_detect_format_refuses_web_pages_other_xml_and_fake_leaders(head, message):
    with pytest.raises(MarcFileRefused, match=re.escape(message)):
        detect_format(head)
