"""MARC 856 both ways: records with digital files export their page and access note; imported
856 links become external e-resources shown on the record page."""

import io

import pymarc
import pytest
from django.urls import reverse

from libraries.catalog.marc import export_marc, import_marc, record_to_marc
from libraries.models import DigitalFile, ExternalLink, Record
from tests.libraries.catalog.marc_builders import build, to_bytes
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book


def exported(library) -> list[pymarc.Record]:
    out = io.BytesIO()
    export_marc(out, library=library)
    return list(pymarc.MARCReader(io.BytesIO(out.getvalue()), to_unicode=True, force_utf8=True))


def test_records_with_digital_files_export_an_856_per_file(tree, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://thuvien.example.vn"
    lending = add_book(tree.own, books.MOBY, licences=2)
    add_book(
        tree.own, books.text_pdf("Moby-Dick"), access=DigitalFile.Access.OPEN, record=lending.record
    )
    (marc,) = exported(tree.own)
    fields = marc.get_fields("856")
    page = f"https://thuvien.example.vn/catalog/record/{lending.record_id}/"
    assert [f.indicators for f in fields] == [pymarc.Indicators("4", "0")] * 2
    assert [[(s.code, s.value) for s in f.subfields] for f in fields] == [
        [
            ("3", "EPUB e-book"),
            ("q", "application/epub+zip"),
            ("u", page),
            ("z", "Lending: 2 licences; borrow with a reader card of HBT."),
        ],
        [
            ("3", "PDF document"),
            ("q", "application/pdf"),
            ("u", page),
            ("z", "Open access: read online or download."),
        ],
    ]


def test_a_second_export_and_reimport_does_not_double_our_own_856(tree, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://thuvien.example.vn"
    file = add_book(tree.own, books.CHILDREN, access=DigitalFile.Access.OPEN)
    out = io.BytesIO()
    export_marc(out, library=tree.own)
    import_marc(io.BytesIO(out.getvalue()), library=tree.own)
    assert ExternalLink.objects.count() == 0  # links to our own pages are not "external"
    record = Record.objects.get(pk=file.record_id)
    assert len(record_to_marc(record).get_fields("856")) == 1


def test_imported_856_links_become_external_resources_on_the_record_page(client, tree):
    marc = build(
        title="Truyện cổ tích Việt Nam", author="Nguyễn Đổng Chi", publisher="Kim Đồng", year="2019"
    )
    S = pymarc.Subfield
    marc.add_field(
        pymarc.Field(
            tag="856",
            indicators=["4", "0"],
            subfields=[
                S("u", "https://sachmo.example.org/co-tich.epub"),
                S("z", "Truy cập mở"),
                S("q", "application/epub+zip"),
                S("y", "Bản điện tử"),
            ],
        ),  # fmt: skip
        pymarc.Field(
            tag="856",
            indicators=["4", "2"],
            subfields=[S("u", "javascript:alert(1)"), S("z", "bad")],
        ),
        pymarc.Field(tag="856", indicators=["4", "1"], subfields=[S("u", "ftp://old.example/x")]),
    )
    import_marc(io.BytesIO(to_bytes(marc)), library=tree.own)
    record = Record.objects.get()
    link = ExternalLink.objects.get()
    assert (link.record, link.url, link.note, link.link_text, link.content_type) == (
        record,
        "https://sachmo.example.org/co-tich.epub",
        "Truy cập mở",
        "Bản điện tử",
        "application/epub+zip",
    )
    # A second import of the same file adds nothing.
    import_marc(io.BytesIO(to_bytes(marc)), library=tree.own)
    assert ExternalLink.objects.count() == 1
    page = client.get(reverse("libraries:record_detail", args=[record.pk])).content.decode()
    assert "Online resources" in page
    link_html = (
        '<a href="https://sachmo.example.org/co-tich.epub" rel="noopener noreferrer nofollow">'
    )
    assert link_html + "Bản điện tử</a>" in page
    assert "javascript:" not in page


@pytest.mark.parametrize("level", ["members", "cardholders"])
def test_access_notes_say_who_may_read(tree, level):
    extra = {"cardholder_libraries": [tree.own, tree.child]} if level == "cardholders" else {}
    file = add_book(tree.own, books.CHILDREN, access=level, **extra)
    note = record_to_marc(Record.objects.get(pk=file.record_id)).get("856").get_subfields("z")
    assert note == [
        "For members of the library network (log in)."
        if level == "members"
        else "For card holders of: HBT, THCSA."
    ]
