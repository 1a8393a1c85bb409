"""The OAI-PMH client (libraries/harvest/client.py) over real HTTP: which addresses it reads,
how much, how long, what XML it accepts, and the protocol's errors."""

import pytest

from libraries.harvest.client import (
    HarvestError,
    OaiClient,
    OaiError,
    UnsafeUrl,
    address_allowed,
    check_url,
)
from tests.libraries.harvest.conftest import Repository, koha

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.org/oai", "Only http:// and https:// addresses can be harvested."),
        ("file:///etc/passwd", "Only http:// and https:// addresses can be harvested."),
        ("http:///oai", "This address has no host name."),
        (
            "http://user:pw@example.org/oai",
            "Addresses with a user name or password are not accepted.",
        ),
        (
            "http://127.0.0.1:8000/oai/",
            "The host 127.0.0.1 is an internal address (127.0.0.1): the harvester only reads "
            "public addresses.",
        ),
        (
            "http://localhost/oai/",
            "The host localhost is an internal address (127.0.0.1): the harvester only reads "
            "public addresses.",
        ),
        (
            "http://10.1.2.3/cgi-bin/koha/oai.pl",
            "The host 10.1.2.3 is an internal address (10.1.2.3): the harvester only reads "
            "public addresses.",
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            "The host 169.254.169.254 is an internal address (169.254.169.254): the harvester "
            "only reads public addresses.",
        ),
        (
            "http://[::1]:8000/oai/",
            "The host ::1 is an internal address (::1): the harvester only reads public addresses.",
        ),
        (
            "http://[::ffff:192.168.1.1]/oai/",
            "The host ::ffff:192.168.1.1 is an internal address (::ffff:192.168.1.1): the "
            "harvester only reads public addresses.",
        ),
        ("http://no-such-host.invalid/oai", "The host no-such-host.invalid cannot be found."),
    ],
)
def test_addresses_refused(settings, url, message):
    settings.HARVEST_ALLOWED_NETWORKS = []
    with pytest.raises(UnsafeUrl) as refused:
        check_url(url)
    assert refused.value.message == message


def test_public_addresses_and_allowed_networks(settings):
    settings.HARVEST_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert address_allowed("203.0.113.9") is False  # documentation range, not routed
    assert address_allowed("8.8.8.8") is True
    assert address_allowed("2001:4860:4860::8888") is True
    assert address_allowed("10.20.3.4") is True  # a district's LAN, allowed by the setting
    assert address_allowed("10.21.3.4") is False
    assert address_allowed("224.0.0.1") is False
    check_url("http://10.20.3.4/cgi-bin/koha/oai.pl")  # no error


def test_loopback_is_read_only_when_the_setting_allows_it(settings, repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    settings.HARVEST_ALLOWED_NETWORKS = []
    with pytest.raises(UnsafeUrl):
        OaiClient(repository.url)
    assert repository.requests == []
    settings.HARVEST_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert OaiClient(repository.url).identify().granularity == "day"


def test_a_redirect_to_an_internal_address_is_refused_on_connection(settings):
    """127.0.0.1 is allowed, 127.0.0.2 is not: the redirect is followed to the guard, and the
    second server never receives a request."""
    settings.HARVEST_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    inside = Repository(host="127.0.0.2")
    outside = Repository()
    try:
        inside.answer(b"secret", verb="Identify")
        outside.answer((302, b"", {"Location": inside.url + "?verb=Identify"}), verb="Identify")
        client = OaiClient(outside.url)
        with pytest.raises(UnsafeUrl) as refused:
            client.identify()
        assert refused.value.message == (
            "The host 127.0.0.2 led to an internal address (127.0.0.2): refused."
        )
        assert inside.requests == []
        assert len(outside.requests) == 1
    finally:
        inside.close()
        outside.close()


def test_answers_are_read_up_to_the_limit(settings, repository):
    settings.HARVEST_MAX_RESPONSE_BYTES = 2 * 1024 * 1024
    big = koha("identify.xml").replace(b"</OAI-PMH>", b"<!--" + b"x" * 3_000_000 + b"--></OAI-PMH>")
    repository.answer(big, verb="Identify")
    with pytest.raises(HarvestError) as refused:
        OaiClient(repository.url).identify()
    assert refused.value.message == "The repository's answer is larger than 2 MB."


def test_a_document_type_is_refused_and_no_entity_is_read(repository, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("mat-khau-noi-bo")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY s SYSTEM "file://{secret}">]>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-12-01T00:00:00Z'
        "</responseDate><Identify><repositoryName>&s;</repositoryName>"
        "<granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>"
    ).encode()
    repository.answer(xxe, verb="Identify")
    with pytest.raises(HarvestError) as refused:
        OaiClient(repository.url).identify()
    assert refused.value.message == (
        "The repository's answer declares a document type (DTD); OAI-PMH answers have none."
    )
    assert "mat-khau" not in refused.value.message


def test_a_billion_laughs_page_is_refused(repository):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
        b"<identifier>&lol3;</identifier></header></record></ListRecords></OAI-PMH>"
    )
    repository.answer(laughs, verb="ListRecords")
    with pytest.raises(HarvestError):
        list(OaiClient(repository.url).list_records(prefix="marc21"))


def test_a_slow_answer_is_tried_again_then_given_up(settings, repository, slow):
    settings.HARVEST_TIMEOUT = (2, 0.5)
    settings.HARVEST_RETRIES = 1
    repository.answer(slow(2, koha("identify.xml")), verb="Identify")
    client = OaiClient(repository.url)
    with pytest.raises(HarvestError) as refused:
        client.identify()
    assert refused.value.message == (
        "The repository cannot be reached after 2 attempts: no answer in time."
    )
    assert client.requests == 2


def test_a_closed_port_is_tried_again_then_given_up(settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OaiClient(f"http://127.0.0.1:{port}/oai/")
    with pytest.raises(HarvestError) as refused:
        client.identify()
    assert refused.value.message == (
        "The repository cannot be reached after 3 attempts: cannot connect (ConnectionError)."
    )
    assert client.requests == 3


def test_client_errors_are_not_tried_again(repository):
    repository.answer((404, b"not found"), verb="Identify")
    client = OaiClient(repository.url)
    with pytest.raises(HarvestError) as refused:
        client.identify()
    assert (refused.value.message, client.requests) == ("The repository answered HTTP 404.", 1)


def test_not_oai_pmh(repository):
    repository.answer(b"<html><body>Koha</body></html>", verb="Identify")
    with pytest.raises(HarvestError) as refused:
        OaiClient(repository.url).identify()
    assert refused.value.message == (
        "This address does not answer OAI-PMH (the XML root is not OAI-PMH)."
    )


def test_no_records_match_is_an_empty_list_and_other_errors_raise(repository):
    repository.answer(koha("norecordsmatch.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(
        koha("norecordsmatch.xml").replace(b"noRecordsMatch", b"cannotDisseminateFormat"),
        verb="ListRecords",
        metadataPrefix="oai_dc",
    )
    client = OaiClient(repository.url)
    (page,) = list(client.list_records(prefix="marc21", from_="2026-12-01"))
    assert (page.records, page.token, page.problems) == ([], None, [])
    with pytest.raises(OaiError) as refused:
        list(client.list_records(prefix="oai_dc"))
    assert refused.value.code == "cannotDisseminateFormat"


def test_pages_follow_resumption_tokens(repository):
    token = "marc21/3/1970-01-01T00:00:00Z/2026-11-30T23:59:59Z//0/4"
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(koha("listrecords-2.xml"), verb="ListRecords", resumptionToken=token)
    pages = list(OaiClient(repository.url).list_records(prefix="marc21"))
    assert [[(r.identifier, r.deleted) for r in p.records] for p in pages] == [
        [("KOHA-OAI-TEST:1", False), ("KOHA-OAI-TEST:2", False), ("KOHA-OAI-TEST:3", False)],
        [("KOHA-OAI-TEST:4", False), ("KOHA-OAI-TEST:5", True), ("KOHA-OAI-TEST:6", False)],
    ]
    assert [p.token for p in pages] == [token, None]
    # The token travels alone, as the protocol says.
    assert repository.requests[1] == {
        "path": "/cgi-bin/koha/oai.pl",
        "verb": "ListRecords",
        "resumptionToken": token,
    }


def test_a_repeated_token_stops_instead_of_looping(repository):
    looping = koha("listrecords-1.xml")
    repository.answer(looping, verb="ListRecords")
    with pytest.raises(HarvestError) as refused:
        list(OaiClient(repository.url).list_records(prefix="marc21"))
    assert refused.value.message == "The repository sent the same resumption token twice."
    assert len(repository.requests) == 2


def test_a_broken_record_is_cut_out_of_its_page(repository):
    repository.answer(koha("broken-page-1.xml"), verb="ListRecords")
    page = next(OaiClient(repository.url).list_records(prefix="marc21"))
    assert [r.identifier for r in page.records] == ["KOHA-OAI-TEST:8", "KOHA-OAI-TEST:10"]
    assert [(i, reason[:20]) for i, reason in page.problems] == [
        ("KOHA-OAI-TEST:9", "not well-formed XML:")
    ]
    assert page.token == "marc21/3/1970-01-01T00:00:00Z/2026-11-30T23:59:59Z//0/11"
    title = page.records[1].metadata.find(
        ".//{http://www.loc.gov/MARC21/slim}datafield[@tag='245']/*"
    )
    assert title.text == "Tiếng Anh 8"


def test_a_page_that_is_not_xml_at_all_stops_the_run(repository):
    repository.answer("<html><p>Lỗi máy chủ".encode(), verb="ListRecords")
    with pytest.raises(HarvestError) as refused:
        list(OaiClient(repository.url).list_records(prefix="marc21"))
    assert refused.value.message.startswith("The repository's answer is not well-formed XML")


def test_a_page_cut_off_is_not_taken_for_the_last_one(repository):
    """A truncated answer loses its resumption token: salvaging it would end the list early
    and the next run would start after records never read."""
    whole = koha("listrecords-1.xml")
    repository.answer(whole[: whole.index(b"KOHA-OAI-TEST:3")], verb="ListRecords")
    with pytest.raises(HarvestError) as refused:
        list(OaiClient(repository.url).list_records(prefix="marc21"))
    assert refused.value.message.startswith("The repository's answer is not well-formed XML")
