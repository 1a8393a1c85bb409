"""What a harvested record says (libraries/harvest/records.py): Koha 952 and MARC 852
holdings, statuses, item types, Dublin Core, and MARCXML that cannot be taken."""

import pytest
from lxml import etree

from libraries.harvest.records import (
    RecordRefused,
    branch_of,
    read_dc,
    read_marcxml,
    read_metadata,
)

pytestmark = pytest.mark.usefixtures("english")

MARC = "http://www.loc.gov/MARC21/slim"


def marcxml(*fields: str, leader: str = "00000nam a2200000 a 4500") -> etree._Element:
    body = "".join(fields)
    lead = f"<leader>{leader}</leader>" if leader is not None else ""
    return etree.fromstring(f"<record xmlns='{MARC}'>{lead}{body}</record>")


def field(tag: str, *subfields: tuple[str, str]) -> str:
    subs = "".join(f"<subfield code='{c}'>{v}</subfield>" for c, v in subfields)
    return f"<datafield tag='{tag}' ind1=' ' ind2=' '>{subs}</datafield>"


TITLE = field("245", ("a", "Sách mẫu"))


@pytest.mark.parametrize(
    "subfields, status, item_type",
    [
        ([("0", "0"), ("1", "0"), ("4", "0"), ("7", "0")], "available", "book"),
        ([("0", "1")], "withdrawn", "book"),
        ([("0", "1"), ("1", "1")], "withdrawn", "book"),  # withdrawn wins over lost
        ([("1", "1")], "lost", "book"),
        ([("1", "2")], "lost", "book"),  # long overdue (lost)
        ([("1", "4")], "missing", "book"),
        ([("1", "5")], "missing", "book"),  # missing in inventory
        ([("4", "1")], "damaged", "book"),
        ([("7", "-1")], "in_process", "book"),  # ordered
        ([("7", "1")], "available", "reference"),  # not for loan
        ([("7", "2")], "available", "reference"),  # staff collection
        ([("y", "REF")], "available", "reference"),
        ([("y", "CR")], "available", "periodical"),
        ([("y", "VM")], "available", "media"),
        ([("y", "textbook")], "available", "textbook"),  # our own provider's value
        ([("y", "XYZ")], "available", "book"),
    ],
)
def test_koha_statuses_and_item_types(subfields, status, item_type):
    data = read_marcxml(marcxml(TITLE, field("952", ("p", "k1"), *subfields)))
    (copy,) = data.copies
    assert (copy.status, copy.item_type) == (status, item_type)
    assert copy.barcode == "K1"


def test_keys_find_a_copy_again():
    data = read_marcxml(
        marcxml(
            TITLE,
            field("942", ("c", "SGK")),
            field("952", ("9", "501"), ("p", "A1"), ("o", "510 TOA")),
            field("952", ("p", "A2")),
            field("952", ("o", "no barcode")),
            field("852", ("h", "895.922"), ("i", "NGU"), ("p", "b7")),
            field("852", ("h", "895.922")),
        )
    )
    assert [(c.key, c.barcode, c.call_number, c.item_type) for c in data.copies] == [
        ("9:501", "A1", "510 TOA", "textbook"),  # no $y: the record's 942 $c
        ("p:A2", "A2", "", "textbook"),
        ("n:1", "", "no barcode", "textbook"),
        ("p:B7", "B7", "895.922 NGU", "book"),
        ("n:2", "", "895.922", "book"),
    ]
    # The stored MARC keeps the description, not one library's copies.
    assert b"A1" not in data.marc and b"895.922" not in data.marc


def test_a_library_set_takes_only_that_branchs_copies():
    element = marcxml(
        TITLE,
        field("952", ("9", "1"), ("a", "THCSA"), ("p", "THCSA0000001")),
        field("952", ("9", "2"), ("a", "THCSB"), ("p", "THCSB0000001")),
        field("952", ("9", "3"), ("p", "X3")),
    )
    assert branch_of("library:THCSA") == "THCSA"
    assert branch_of("district:HBT") == branch_of("") == branch_of("bk") == ""
    only_a = read_metadata(element, "marc21", branch="THCSA")
    assert [c.barcode for c in only_a.copies] == ["THCSA0000001", "X3"]
    every = read_metadata(element, "marc21")
    assert [c.barcode for c in every.copies] == ["THCSA0000001", "THCSB0000001", "X3"]


@pytest.mark.parametrize(
    "element, reason",
    [
        (marcxml(TITLE, leader=None), "the MARC record has no valid leader (24 characters)"),
        (marcxml(TITLE, leader="short"), "the MARC record has no valid leader (24 characters)"),
        (marcxml(leader="00000nam a2200000 a 4500"), "the MARC record has no fields"),
        (marcxml(field("24", ("a", "x"))), "a data field with the tag “24”"),
        (
            marcxml("<controlfield tag='0011'>x</controlfield>", TITLE),
            "a control field with the tag “0011”",
        ),
        (marcxml(field("245", ("ab", "x"))), "field 245 has a subfield code “ab”"),
        (marcxml(field("100", ("a", "Không nhan đề"))), "the record has no title (245)"),
        (
            marcxml(TITLE, field("500", ("a", "x" * 100_000))),
            "the record is longer than MARC21 allows (99,999 bytes)",
        ),
    ],
)
def test_marc_that_cannot_be_taken(element, reason):
    with pytest.raises(RecordRefused) as refused:
        read_marcxml(element)
    assert refused.value.reason == reason


def test_the_wrong_kind_of_metadata_is_refused():
    dc = etree.fromstring("<oai_dc:dc xmlns:oai_dc='http://www.openarchives.org/OAI/2.0/oai_dc/'/>")
    with pytest.raises(RecordRefused) as refused:
        read_metadata(dc, "marc21")
    assert refused.value.reason == "the metadata is not a MARCXML record"
    with pytest.raises(RecordRefused) as refused:
        read_metadata(marcxml(TITLE), "oai_dc")
    assert refused.value.reason == "the metadata is not a Dublin Core record"


DC = (
    "<oai_dc:dc xmlns:oai_dc='http://www.openarchives.org/OAI/2.0/oai_dc/' "
    "xmlns:dc='http://purl.org/dc/elements/1.1/'>{}</oai_dc:dc>"
)


def test_dublin_core_fields():
    element = etree.fromstring(
        DC.format(
            "<dc:title>Đường về quê hương: tập 1</dc:title>"
            "<dc:creator>Nguyễn Văn A</dc:creator><dc:creator>Trần Thị B</dc:creator>"
            "<dc:subject>Văn học</dc:subject><dc:subject>Thiếu nhi -- Truyện</dc:subject>"
            "<dc:description>Một câu chuyện.</dc:description>"
            "<dc:publisher>NXB Giáo dục</dc:publisher><dc:date>c2019</dc:date>"
            "<dc:type>Text</dc:type><dc:identifier>http://example.org/record/4/</dc:identifier>"
            "<dc:identifier>ISBN:978-604-1-00001-8</dc:identifier><dc:language>vi</dc:language>"
        )
    )
    data = read_dc(element)
    assert (data.copies, data.marc) == ([], None)
    assert {k: v for k, v in data.fields.items() if v} == {
        "title": "Đường về quê hương",
        "subtitle": "tập 1",
        "authors": "Nguyễn Văn A; Trần Thị B",
        "publisher": "NXB Giáo dục",
        "year": 2019,
        "isbn": "9786041000018",
        "language": "vie",
        "subjects": "Văn học\nThiếu nhi -- Truyện",
        "summary": "Một câu chuyện.",
    }


def test_dublin_core_without_a_title_is_refused():
    with pytest.raises(RecordRefused) as refused:
        read_dc(etree.fromstring(DC.format("<dc:creator>Ai đó</dc:creator>")))
    assert refused.value.reason == "the Dublin Core record has no title"


@pytest.mark.parametrize(
    "control, kept",
    [
        (["<controlfield tag='001'>1</controlfield>"], ("", "")),
        (
            ["<controlfield tag='001'>1</controlfield>",
             "<controlfield tag='003'>OSt</controlfield>"],
            ("", ""),
        ),
        (
            ["<controlfield tag='001'>VN123</controlfield>",
             "<controlfield tag='003'>VN-NLV</controlfield>"],
            ("VN123", "VN-NLV"),
        ),
    ],
)  # fmt: skip
def test_only_a_control_number_with_its_agency_is_kept(control, kept):
    """Koha puts its biblionumber in 001 and, by default, "OSt" in 003: another system's
    record 1 is not this one."""
    data = read_marcxml(marcxml(*control, TITLE))
    assert (data.fields["control_number"], data.fields["control_number_source"]) == kept
