"""The OAI-PMH provider (libraries/catalog/oai.py): every verb and error over HTTP, every
response validated against the OAI-PMH, oai_dc and MARC21slim schemas shipped in
tests/fixtures/oai/, and a complete harvest by a real harvester (Sickle)."""

import datetime
import time
from pathlib import Path

import pytest
from django.core import signing
from django.utils import timezone
from lxml import etree
from sickle import Sickle

from libraries.catalog.oai import TOKEN_SALT
from libraries.models import Item, Record
from libraries.models.catalog import DeletedRecord
from tests.factories import LibraryFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory

pytestmark = pytest.mark.usefixtures("english")
SCHEMAS = Path(__file__).resolve().parents[2] / "fixtures" / "oai"
NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "m": "http://www.loc.gov/MARC21/slim",
}


class _Offline(etree.Resolver):
    """Serves the W3C xml.xsd that simpledc imports from the local copy (no network)."""

    def resolve(self, url, pubid, context):
        if url.endswith("/xml.xsd"):
            return self.resolve_filename(str(SCHEMAS / "xml.xsd"), context)
        return None


def _schema() -> etree.XMLSchema:
    driver = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        targetNamespace="urn:driver" elementFormDefault="qualified">
      <xs:import namespace="{NS["o"]}" schemaLocation="{(SCHEMAS / "OAI-PMH.xsd").as_uri()}"/>
      <xs:import namespace="{NS["oai_dc"]}" schemaLocation="{(SCHEMAS / "oai_dc.xsd").as_uri()}"/>
      <xs:import namespace="{NS["m"]}" schemaLocation="{(SCHEMAS / "MARC21slim.xsd").as_uri()}"/>
    </xs:schema>"""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Offline())
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser, base_url=str(SCHEMAS) + "/"))


SCHEMA = _schema()


def oai(client, method="get", **params):
    """The response's root element, after checking content type and schema validity."""
    response = getattr(client, method)("/oai/", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    SCHEMA.assertValid(root)
    # The root must be OAI-PMH itself, not merely contain valid pieces.
    assert root.tag == f"{{{NS['o']}}}OAI-PMH"
    return root


def error_of(root) -> tuple[str, str]:
    (error,) = root.findall("o:error", NS)
    return error.get("code"), error.text


def ids_of(root) -> list[str]:
    return [e.text for e in root.findall(".//o:header/o:identifier", NS)]


def ident(record_id) -> str:
    return f"oai:127.0.0.1:record/{record_id}"


@pytest.fixture
def catalog(tree):
    """Two records at THCSA (school in district HBT), one at THPTC (district DDA)."""
    a = RecordFactory(
        title="Đường về quê hương",
        subtitle="tập 1",
        authors="Nguyễn Văn A; Trần Thị B",
        publisher="NXB Giáo dục",
        year=2019,
        isbn="9786040000001",
        subjects="Văn học\nThiếu nhi -- Truyện",
        summary="Một câu chuyện.",
    )
    b = RecordFactory(title="Toán 6")
    c = RecordFactory(title="Lịch sử")
    ItemFactory(record=a, library=tree.child)
    ItemFactory(record=b, library=tree.child)
    ItemFactory(record=c, library=tree.cousin)
    return a, b, c


# --------------------------------------------------------------------------- the verbs


def test_identify(client, catalog, settings):
    settings.OAI_ADMIN_EMAIL = "thuvien@example.vn"
    root = oai(client, verb="Identify")
    identify = root.find("o:Identify", NS)
    text = {child.tag.split("}")[1]: child.text for child in identify}
    earliest = min(Record.objects.values_list("updated_at", flat=True))
    assert text == {
        "repositoryName": "Cầu nối tri thức số",
        "baseURL": "http://testserver/oai/",
        "protocolVersion": "2.0",
        "adminEmail": "thuvien@example.vn",
        "earliestDatestamp": earliest.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deletedRecord": "persistent",
        "granularity": "YYYY-MM-DDThh:mm:ssZ",
    }
    assert root.find("o:request", NS).attrib == {"verb": "Identify"}


def test_post_is_answered_like_get_and_other_methods_are_refused(client, catalog):
    root = oai(client, method="post", verb="Identify")
    assert root.find("o:Identify/o:deletedRecord", NS).text == "persistent"
    assert client.put("/oai/?verb=Identify").status_code == 405


def test_list_metadata_formats(client, catalog):
    root = oai(client, verb="ListMetadataFormats", identifier=ident(catalog[0].pk))
    prefixes = [e.text for e in root.findall(".//o:metadataPrefix", NS)]
    assert prefixes == ["oai_dc", "marc21"]


def test_list_sets_lists_active_libraries_and_districts_only(client, catalog, tree):
    tree.sibling.is_active = False
    tree.sibling.save()
    root = oai(client, verb="ListSets")
    specs = [e.text for e in root.findall(".//o:setSpec", NS)]
    assert specs == [
        "library",
        "district",
        "library:HBT",
        "district:HBT",
        "library:THCSA",
        "library:THPTC",
        "library:TVT",
    ]


def test_get_record_oai_dc(client, catalog):
    a = catalog[0]
    root = oai(client, verb="GetRecord", identifier=ident(a.pk), metadataPrefix="oai_dc")
    header = root.find(".//o:header", NS)
    assert header.get("status") is None
    assert [e.text for e in header.findall("o:setSpec", NS)] == ["district:HBT", "library:THCSA"]
    dc = root.find(".//oai_dc:dc", NS)
    pairs = [(e.tag.split("}")[1], e.text) for e in dc]
    assert pairs == [
        ("title", "Đường về quê hương: tập 1"),
        ("creator", "Nguyễn Văn A"),
        ("creator", "Trần Thị B"),
        ("subject", "Văn học"),
        ("subject", "Thiếu nhi -- Truyện"),
        ("description", "Một câu chuyện."),
        ("publisher", "NXB Giáo dục"),
        ("date", "2019"),
        ("type", "Text"),
        ("identifier", "ISBN:9786040000001"),
        ("identifier", f"http://testserver/catalog/record/{a.pk}/"),
        ("language", "vie"),
    ]


def test_get_record_marc21_is_the_marc_export(client, catalog):
    a = catalog[0]
    root = oai(client, verb="GetRecord", identifier=ident(a.pk), metadataPrefix="marc21")
    marc = root.find(".//m:record", NS)
    title = marc.find("m:datafield[@tag='245']", NS)
    assert [(s.get("code"), s.text) for s in title] == [("a", "Đường về quê hương"), ("b", "tập 1")]
    assert marc.find("m:datafield[@tag='020']/m:subfield", NS).text == "9786040000001"


def test_list_identifiers_and_records_by_set(client, catalog):
    a, b, c = catalog
    district = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="district:HBT")
    assert ids_of(district) == [ident(a.pk), ident(b.pk)]
    school = oai(client, verb="ListRecords", metadataPrefix="marc21", set="library:THPTC")
    assert ids_of(school) == [ident(c.pk)]
    everything = oai(client, verb="ListRecords", metadataPrefix="oai_dc")
    assert ids_of(everything) == [ident(a.pk), ident(b.pk), ident(c.pk)]
    # A complete list in one page carries no resumption token.
    assert everything.find(".//o:resumptionToken", NS) is None


def test_from_and_until(client, catalog):
    a, b, c = catalog
    old = timezone.now() - datetime.timedelta(days=10)
    Record.objects.filter(pk=a.pk).update(updated_at=old.replace(hour=12, minute=0, second=0))
    day = old.astimezone(datetime.UTC).date().isoformat()
    noon = f"{day}T12:00:00Z"
    until = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until=noon)
    assert ids_of(until) == [ident(a.pk)]
    until_day = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until=day)
    assert ids_of(until_day) == [ident(a.pk)]
    after = oai(
        client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": f"{day}T12:00:01Z"}
    )
    assert ids_of(after) == [ident(b.pk), ident(c.pk)]
    exact = oai(
        client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": noon, "until": noon}
    )
    assert ids_of(exact) == [ident(a.pk)]


def test_deleted_records_persist_with_their_sets(client, catalog, tree):
    a, b, c = catalog
    a_pk = a.pk
    Record.objects.filter(pk__in=[a.pk, b.pk]).update(source_library=tree.child)
    a.refresh_from_db()
    Item.objects.filter(record__in=[a, b]).delete()  # copies protect their record
    a.delete()
    Record.objects.filter(pk=b.pk).delete()  # a queryset delete leaves a tombstone too
    assert set(DeletedRecord.objects.values_list("record_id", flat=True)) == {a_pk, b.pk}
    root = oai(client, verb="GetRecord", identifier=ident(a_pk), metadataPrefix="oai_dc")
    header = root.find(".//o:header", NS)
    assert header.get("status") == "deleted"
    assert [e.text for e in header.findall("o:setSpec", NS)] == ["district:HBT", "library:THCSA"]
    assert root.find(".//o:metadata", NS) is None
    listed = oai(client, verb="ListRecords", metadataPrefix="marc21", set="library:THCSA")
    assert ids_of(listed) == [ident(a_pk), ident(b.pk)]
    assert [h.get("status") for h in listed.findall(".//o:header", NS)] == ["deleted", "deleted"]
    others = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="library:THPTC")
    assert ids_of(others) == [ident(c.pk)]


def test_resumption_tokens_page_through_everything(client, tree, settings):
    settings.OAI_PAGE_SIZE = 2
    records = [RecordFactory() for _ in range(5)]
    gone = records.pop()
    gone_pk = gone.pk
    gone.delete()  # no copies
    seen, cursors = [], []
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    while True:
        seen += ids_of(root)
        token = root.find(".//o:resumptionToken", NS)
        cursors.append((token.get("cursor"), token.get("completeListSize")))
        if not token.text:
            break
        assert token.get("expirationDate")
        root = oai(client, verb="ListIdentifiers", resumptionToken=token.text)
    assert seen == [ident(r.pk) for r in records] + [ident(gone_pk)]
    assert cursors == [("0", "5"), ("2", "5"), ("4", "5")]


# --------------------------------------------------------------------------- the errors


@pytest.mark.parametrize(
    "params",
    [{}, {"verb": "Harvest"}, {"verb": ["Identify", "Identify"]}],
    ids=["missing", "unknown", "repeated"],
)
def test_bad_verb(client, catalog, params):
    root = oai(client, **params)
    assert error_of(root) == ("badVerb", "The verb is missing, repeated or unknown.")
    assert root.find("o:request", NS).attrib == {}


def test_errors_speak_vietnamese_by_default(client, catalog):
    client.cookies["django_language"] = "vi"
    root = oai(client, verb="ListRecords", resumptionToken="x")
    assert error_of(root) == (
        "badResumptionToken",
        "Mã tiếp tục (resumption token) này không hợp lệ.",
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"verb": "Identify", "set": "x"}, "Arguments not allowed: set; missing: -."),
        (
            {"verb": "GetRecord", "identifier": "x"},
            "Arguments not allowed: -; missing: metadataPrefix.",
        ),
        ({"verb": "ListRecords"}, "Arguments not allowed: -; missing: metadataPrefix."),
        (
            {"verb": "ListRecords", "metadataPrefix": ["oai_dc", "marc21"]},
            "An argument is repeated.",
        ),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"},
            "resumptionToken must be the only argument.",
        ),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-13-01"},
            "This date does not exist: 2024-13-01",
        ),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "01/02/2024"},
            "Dates must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.",
        ),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2024-01-01",
                "until": "2024-02-01T00:00:00Z",
            },
            "from and until must have the same granularity.",
        ),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2024-02-01",
                "until": "2024-01-01",
            },
            "from must not be later than until.",
        ),
    ],
)
def test_bad_argument(client, catalog, params, message):
    assert error_of(oai(client, **params)) == ("badArgument", message)


def test_cannot_disseminate_format(client, catalog):
    root = oai(client, verb="GetRecord", identifier=ident(catalog[0].pk), metadataPrefix="mods")
    assert error_of(root) == (
        "cannotDisseminateFormat",
        "This repository offers oai_dc and marc21, not mods.",
    )
    root = oai(client, verb="ListRecords", metadataPrefix="mods")
    assert error_of(root)[0] == "cannotDisseminateFormat"


@pytest.mark.parametrize(
    "identifier", ["oai:127.0.0.1:record/999999", "oai:elsewhere:record/1", "x"]
)
def test_id_does_not_exist(client, catalog, identifier):
    root = oai(client, verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    assert error_of(root) == ("idDoesNotExist", f"No record has this identifier: {identifier}")
    root = oai(client, verb="ListMetadataFormats", identifier=identifier)
    assert error_of(root)[0] == "idDoesNotExist"


@pytest.mark.parametrize(
    "params",
    [
        {"set": "library:NOPE"},
        {"set": "district:THCSA"},  # a school is not a district
        {"from": "2999-01-01"},
        {"set": "library:DDA"},  # a library without copies
    ],
)
def test_no_records_match(client, catalog, params):
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **params)
    assert error_of(root) == ("noRecordsMatch", "No records match this request.")


def test_inactive_library_set_matches_nothing(client, catalog, tree):
    tree.child.is_active = False
    tree.child.save()
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="library:THCSA")
    assert error_of(root) == ("noRecordsMatch", "No records match this request.")


def _first_token(client, settings) -> str:
    settings.OAI_PAGE_SIZE = 1
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc")
    return root.find(".//o:resumptionToken", NS).text


def test_bad_resumption_token_tampered_or_for_another_verb(client, catalog, settings):
    token = _first_token(client, settings)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    root = oai(client, verb="ListRecords", resumptionToken=tampered)
    assert error_of(root) == ("badResumptionToken", "This resumption token is not valid.")
    root = oai(client, verb="ListIdentifiers", resumptionToken=token)
    assert error_of(root) == ("badResumptionToken", "This resumption token is not valid.")
    root = oai(client, verb="ListSets", resumptionToken=token)
    assert error_of(root)[0] == "badResumptionToken"


def test_expired_resumption_token(client, catalog, settings, monkeypatch):
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - 25 * 3600)
    token = _first_token(client, settings)
    monkeypatch.setattr(signing.time, "time", real)
    root = oai(client, verb="ListRecords", resumptionToken=token)
    assert error_of(root) == ("badResumptionToken", "This resumption token has expired.")
    # Still valid a day later if the setting allows it: the signature itself is sound.
    settings.OAI_TOKEN_MAX_AGE = 26 * 3600
    root = oai(client, verb="ListRecords", resumptionToken=token)
    assert len(ids_of(root)) == 1
    assert signing.loads(token, salt=TOKEN_SALT)["v"] == "ListRecords"


# --------------------------------------------------------------------------- a real harvest


@pytest.mark.django_db(transaction=True)
def test_sickle_harvests_several_thousand_records_completely(live_server, settings):
    settings.OAI_PAGE_SIZE = 250
    district = LibraryFactory(code="HBT", kind="district")
    school = LibraryFactory(code="THCSA", kind="school", parent=district)
    Record.objects.bulk_create(Record(title=f"Sách {n}", year=2000 + n % 20) for n in range(3000))
    pks = list(Record.objects.order_by("pk").values_list("pk", flat=True))
    Item.objects.bulk_create(
        Item(record_id=pk, library=school, location=school, barcode=f"THCSA{pk:07d}")
        for pk in pks[::3]
    )
    deleted = pks[100:110]
    Item.objects.filter(record_id__in=deleted).delete()
    Record.objects.filter(pk__in=deleted).delete()
    live = set(pks) - set(deleted)

    harvester = Sickle(f"{live_server.url}/oai/", max_retries=0, timeout=30)
    records = list(harvester.ListRecords(metadataPrefix="marc21", ignore_deleted=False))
    got = [int(r.header.identifier.rsplit("/", 1)[1]) for r in records]
    assert len(got) == 3000
    assert set(got) == set(pks)
    assert {pk for pk, r in zip(got, records, strict=True) if r.header.deleted} == set(deleted)

    in_school = list(harvester.ListIdentifiers(metadataPrefix="oai_dc", set="district:HBT"))
    school_ids = {int(h.identifier.rsplit("/", 1)[1]) for h in in_school if not h.deleted}
    assert school_ids == set(pks[::3]) & live
