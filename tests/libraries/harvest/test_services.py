"""The harvest run (libraries/harvest/services.py) against Koha-shaped OAI-PMH answers served
over real HTTP (tests/fixtures/oai/koha/, see PROVENANCE.md): records and copies, a second
run that adds nothing, incremental changes and deletions, bad records that fail alone."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from libraries.harvest.services import (
    HarvestRefused,
    close_stale_runs,
    due_sources,
    harvest_now,
    queue_run,
)
from libraries.models import (
    HarvestedItem,
    HarvestedRecord,
    HarvestRun,
    HarvestSource,
    Item,
    Loan,
    Record,
)
from libraries.models.catalog import DeletedRecord as Tombstone
from tests.factories import LibraryFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.harvest.conftest import koha

pytestmark = pytest.mark.usefixtures("english")

TOKEN_1 = "marc21/3/1970-01-01T00:00:00Z/2026-11-30T23:59:59Z//0/4"
TOKEN_BROKEN = "marc21/3/1970-01-01T00:00:00Z/2026-11-30T23:59:59Z//0/11"


@pytest.fixture
def school(db):
    return LibraryFactory(code="NDU", name="Thư viện THCS Nguyễn Du")


@pytest.fixture
def source(school, repository):
    return HarvestSource.objects.create(
        name="Koha THCS Nguyễn Du", base_url=repository.url, library=school
    )


def serve_first_harvest(repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(koha("listrecords-2.xml"), verb="ListRecords", resumptionToken=TOKEN_1)


def counts(run) -> dict:
    names = ("added", "updated", "deleted", "unchanged", "failed", "items_added",
             "items_updated", "items_removed")  # fmt: skip
    return {name: getattr(run, name) for name in names}


def copies(library) -> dict:
    """barcode: (record title, status, item type, call number) of the library's copies."""
    return {
        i.barcode: (i.record.title, i.status, i.item_type, i.call_number)
        for i in Item.objects.filter(library=library).select_related("record")
    }


FIRST_HARVEST_COPIES = {
    "NDU0000011": ("Dế Mèn phiêu lưu ký", "available", "book", "895.9223 TOH"),
    "NDU0000012": ("Dế Mèn phiêu lưu ký", "available", "book", "895.9223 TOH"),
    # 942 $c / 952 $y SGK (sách giáo khoa) is this school's item type for textbooks.
    "NDU0000021": ("Toán 6.", "available", "textbook", "510.712 TOA"),
    "NDU0000022": ("Toán 6.", "withdrawn", "textbook", "510.712 TOA"),
    "NDU0000023": ("Toán 6.", "lost", "textbook", "510.712 TOA"),
    "NDU0000031": ("Nội quy thư viện Trường THCS Nguyễn Du", "available", "reference", ""),
    "NDU0000041": ("Tuyển tập truyện ngắn Nam Cao", "missing", "book", "895.92233 NAM"),
    "NDU0000042": ("Tuyển tập truyện ngắn Nam Cao", "damaged", "book", "895.92233 NAM"),
    "NDU0000061": ("The hobbit, or, There and back again", "in_process", "book", ""),
}


def test_first_harvest_takes_every_record_and_copy(source, school, repository):
    serve_first_harvest(repository)
    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.DONE, run.errors
    assert counts(run) == {"added": 5, "updated": 0, "deleted": 0, "unchanged": 1, "failed": 0,
                           "items_added": 9, "items_updated": 0, "items_removed": 0}  # fmt: skip
    assert run.from_used == ""
    assert run.errors == []
    assert repository.verbs() == ["Identify", "ListRecords", "ListRecords"]
    assert copies(school) == FIRST_HARVEST_COPIES
    record = Record.objects.get(isbn="9786041000018")
    assert (record.authors, record.publisher, record.year, record.source_library) == (
        "Tô Hoài",
        "Kim Đồng",
        2019,
        school,
    )
    assert Record.objects.get(title="The hobbit, or, There and back again").isbn == (
        "9780261103344"
    )
    item = Item.objects.get(barcode="NDU0000011")
    assert (item.price, item.acquired_on, item.location) == (
        Decimal("45000"),
        datetime.date(2024, 9, 5),
        school,
    )
    assert set(HarvestedRecord.objects.values_list("identifier", "created_record")) == {
        (f"KOHA-OAI-TEST:{n}", True) for n in (1, 2, 3, 4, 6)
    }
    assert HarvestedItem.objects.count() == 9
    source.refresh_from_db()
    # The repository's clock at the start (Identify), asked as a day (granularity YYYY-MM-DD).
    assert source.next_from == datetime.datetime(2026, 11, 30, 3, 0, 0, tzinfo=datetime.UTC)
    assert (source.granularity, source.retry_identifiers) == ("day", [])
    # The stored MARC is the shared description: no copies of one library in it.
    assert b"NDU0000011" not in bytes(record.marc)


def snapshot() -> dict:
    """Every row a harvest writes, with the moments it was last written."""
    return {
        "records": dict(Record.objects.values_list("pk", "updated_at")),
        "items": dict(Item.objects.values_list("pk", "updated_at")),
        "links": set(HarvestedRecord.objects.values_list("pk", "checksum")),
        "item_links": set(HarvestedItem.objects.values_list("pk", "item_id", "key")),
        "tombstones": Tombstone.objects.count(),
    }


def test_a_second_run_adds_nothing(source, repository):
    serve_first_harvest(repository)
    harvest_now(source=source)
    before = snapshot()
    # The repository (day granularity) sends every record again for the day asked.
    repository.answer(koha("identify-next-day.xml"), verb="Identify")
    repository.answer(
        koha("listrecords-1.xml"),
        verb="ListRecords",
        metadataPrefix="marc21",
        **{"from": "2026-11-30"},
    )

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.DONE
    assert repository.requests[-2]["from"] == "2026-11-30"
    assert run.from_used == "2026-11-30"
    assert counts(run) == {"added": 0, "updated": 0, "deleted": 0, "unchanged": 6, "failed": 0,
                           "items_added": 0, "items_updated": 0, "items_removed": 0}  # fmt: skip
    assert snapshot() == before
    source.refresh_from_db()
    assert source.next_from == datetime.datetime(2026, 12, 1, 3, 0, 0, tzinfo=datetime.UTC)


def test_incremental_run_applies_changes_deletions_and_matches(source, school, repository):
    other = LibraryFactory(code="THPTC")
    existing = RecordFactory(title="Lịch sử và Địa lí 6", isbn="9786045000052", authors="")
    ItemFactory(record=existing, library=other, barcode="THPTC0000001")
    serve_first_harvest(repository)
    harvest_now(source=source)
    gone = Record.objects.get(title="Nội quy thư viện Trường THCS Nguyễn Du")
    records_before = Record.objects.count()
    repository.answer(koha("identify-next-day.xml"), verb="Identify")
    repository.answer(
        koha("listrecords-changes.xml"),
        verb="ListRecords",
        metadataPrefix="marc21",
        **{"from": "2026-11-30"},
    )

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.DONE, run.errors
    assert counts(run) == {"added": 1, "updated": 1, "deleted": 1, "unchanged": 0, "failed": 0,
                           "items_added": 2, "items_updated": 1, "items_removed": 1}  # fmt: skip
    # Record 3 was deleted: its copy and the record itself (the harvest created it, nothing
    # else holds it) are gone, with a tombstone for our own OAI-PMH harvesters.
    assert not Record.objects.filter(pk=gone.pk).exists()
    assert Tombstone.objects.filter(record_id=gone.pk).exists()
    assert not HarvestedRecord.objects.filter(identifier="KOHA-OAI-TEST:3").exists()
    # Record 7 matched the union catalog's record by ISBN: the copy is attached to it.
    assert Record.objects.count() == records_before - 1
    existing.refresh_from_db()
    assert (existing.title, existing.authors, existing.source_library) == (
        "Lịch sử và Địa lí 6",
        "",
        None,
    )
    assert sorted(existing.items.values_list("barcode", "library__code")) == [
        ("NDU0000071", "NDU"),
        ("THPTC0000001", "THPTC"),
    ]
    link = HarvestedRecord.objects.get(identifier="KOHA-OAI-TEST:7")
    assert (link.record, link.created_record) == (existing, False)
    expected = dict(FIRST_HARVEST_COPIES)
    del expected["NDU0000031"]
    expected["NDU0000012"] = ("Dế Mèn phiêu lưu ký", "withdrawn", "book", "895.9223 TOH")
    expected["NDU0000013"] = ("Dế Mèn phiêu lưu ký", "available", "book", "895.9223 TOH")
    expected["NDU0000071"] = ("Lịch sử và Địa lí 6", "available", "textbook", "907 LIC")
    assert copies(school) == expected

    # The day after, nothing changed: noRecordsMatch is an empty list, not a failure.
    repository.answer(koha("identify-day-after.xml"), verb="Identify")
    repository.answer(
        koha("norecordsmatch.xml"),
        verb="ListRecords",
        metadataPrefix="marc21",
        **{"from": "2026-12-01"},
    )
    before = snapshot()
    quiet = harvest_now(source=source)
    assert (quiet.status, quiet.from_used) == (HarvestRun.Status.DONE, "2026-12-01")
    assert counts(quiet) == dict.fromkeys(counts(quiet), 0)
    assert snapshot() == before


def test_deleting_a_matched_record_keeps_it_for_the_other_library(source, school, repository):
    other = LibraryFactory(code="THPTC")
    existing = RecordFactory(title="Lịch sử và Địa lí 6", isbn="9786045000052")
    ItemFactory(record=existing, library=other, barcode="THPTC0000001")
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-changes.xml"), verb="ListRecords", metadataPrefix="marc21")
    harvest_now(source=source)
    assert existing.items.count() == 2
    deleted = koha("listrecords-2.xml").replace(
        b"<header status='deleted'><identifier>KOHA-OAI-TEST:5<",
        b"<header status='deleted'><identifier>KOHA-OAI-TEST:7<",
    )
    repository.answer(koha("identify-next-day.xml"), verb="Identify")
    repository.answer(
        deleted, verb="ListRecords", metadataPrefix="marc21", **{"from": "2026-11-30"}
    )

    run = harvest_now(source=source)

    assert (run.deleted, run.items_removed) == (1, 1)
    assert list(existing.items.values_list("barcode", flat=True)) == ["THPTC0000001"]
    assert Record.objects.filter(pk=existing.pk).exists()


def test_a_deleted_copy_with_loans_is_withdrawn_and_its_record_kept(source, school, repository):
    from tests.factories import UserFactory
    from tests.libraries.circulation.factories import PatronFactory, lend

    serve_first_harvest(repository)
    harvest_now(source=source)
    item = Item.objects.get(barcode="NDU0000031")
    lend(item, PatronFactory(home_library=school), by=UserFactory(is_superuser=True))
    repository.answer(koha("identify-next-day.xml"), verb="Identify")
    repository.answer(
        koha("listrecords-changes.xml"),
        verb="ListRecords",
        metadataPrefix="marc21",
        **{"from": "2026-11-30"},
    )

    run = harvest_now(source=source)

    assert (run.deleted, run.failed) == (1, 0)
    item.refresh_from_db()
    assert item.status == Item.Status.WITHDRAWN
    assert Loan.objects.filter(item=item).count() == 1
    assert Record.objects.filter(pk=item.record_id).exists()
    assert not HarvestedItem.objects.filter(item=item).exists()


def test_bad_records_fail_alone_and_are_asked_for_again(source, school, repository):
    other = LibraryFactory(code="THPTC")
    clash = ItemFactory(library=other, barcode="NDU0000121")
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("broken-page-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(koha("broken-page-2.xml"), verb="ListRecords", resumptionToken=TOKEN_BROKEN)

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.PARTIAL
    assert counts(run) == {"added": 3, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 3,
                           "items_added": 3, "items_updated": 0, "items_removed": 0}  # fmt: skip
    assert [e["identifier"] for e in run.errors] == [
        "KOHA-OAI-TEST:9",
        "KOHA-OAI-TEST:11",
        "KOHA-OAI-TEST:12",
    ]
    assert run.errors[0]["reason"].startswith(
        "not well-formed XML: Opening and ending tag mismatch: subfield"
    )
    assert [e["reason"] for e in run.errors[1:]] == [
        "the MARC record has no valid leader (24 characters)",
        "barcode NDU0000121 is already used by a copy of THPTC",
    ]
    assert sorted(copies(school)) == ["NDU0000081", "NDU0000101", "NDU0000131"]
    # Nothing of a refused record was written: not its record, not its other copy.
    assert not Record.objects.filter(title__in=["Âm nhạc 8", "Vở bài tập Toán 8"]).exists()
    assert not Item.objects.filter(barcode="NDU0000122").exists()
    clash.refresh_from_db()
    assert (clash.library, clash.record.title) == (other, clash.record.title)
    assert not HarvestedItem.objects.filter(item=clash).exists()
    source.refresh_from_db()
    assert source.retry_identifiers == ["KOHA-OAI-TEST:9", "KOHA-OAI-TEST:11", "KOHA-OAI-TEST:12"]
    assert source.next_from == datetime.datetime(2026, 11, 30, 3, 0, 0, tzinfo=datetime.UTC)

    # Next run: nothing new in the list; the three are asked for by GetRecord.
    repository.answer(koha("identify-next-day.xml"), verb="Identify")
    repository.answer(
        koha("norecordsmatch.xml"),
        verb="ListRecords",
        metadataPrefix="marc21",
        **{"from": "2026-11-30"},
    )
    repository.answer(koha("getrecord-9.xml"), verb="GetRecord", identifier="KOHA-OAI-TEST:9")
    repository.answer(
        koha("getrecord-11-unknown.xml"), verb="GetRecord", identifier="KOHA-OAI-TEST:11"
    )
    repository.answer(koha("getrecord-12.xml"), verb="GetRecord", identifier="KOHA-OAI-TEST:12")

    again = harvest_now(source=source)

    assert [r.get("identifier") for r in repository.requests if r["verb"] == "GetRecord"] == [
        "KOHA-OAI-TEST:9",
        "KOHA-OAI-TEST:11",
        "KOHA-OAI-TEST:12",
    ]
    assert (again.added, again.unchanged, again.failed) == (1, 1, 1)
    assert "NDU0000091" in copies(school)
    source.refresh_from_db()
    assert source.retry_identifiers == ["KOHA-OAI-TEST:12"]


def test_a_server_error_is_tried_again(source, school, repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(
        (500, b"<html>Internal Server Error</html>"),
        koha("listrecords-1.xml"),
        verb="ListRecords",
        metadataPrefix="marc21",
    )
    repository.answer(
        (503, b"busy", {"Retry-After": "0"}),
        koha("listrecords-2.xml"),
        verb="ListRecords",
        resumptionToken=TOKEN_1,
    )

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.DONE
    assert (run.added, run.items_added, run.requests) == (5, 9, 5)
    assert copies(school) == FIRST_HARVEST_COPIES


def test_a_repository_that_stays_down_stops_the_run_and_keeps_what_it_took(source, repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer((502, b"bad gateway"), verb="ListRecords", resumptionToken=TOKEN_1)

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.FAILED
    assert run.message == ("The repository cannot be reached after 3 attempts: HTTP error 502.")
    assert (run.added, run.requests) == (3, 5)
    assert HarvestedRecord.objects.count() == 3
    source.refresh_from_db()
    assert source.next_from is None  # the next run asks for everything again


def test_a_refused_resumption_token_restarts_the_list_once(source, school, repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(
        koha("badresumptiontoken.xml"),
        koha("listrecords-2.xml"),
        verb="ListRecords",
        resumptionToken=TOKEN_1,
    )

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.PARTIAL
    assert counts(run) == {"added": 5, "updated": 0, "deleted": 0, "unchanged": 4, "failed": 0,
                           "items_added": 9, "items_updated": 0, "items_removed": 0}  # fmt: skip
    assert run.errors == [
        {
            "identifier": "",
            "reason": "The repository refused its own resumption token (The repository "
            "answered badResumptionToken: The value of the resumptionToken argument is invalid "
            "or expired.); the list was asked for again from the start.",
        }
    ]
    assert copies(school) == FIRST_HARVEST_COPIES


def test_a_token_refused_twice_stops_the_run(source, repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(koha("badresumptiontoken.xml"), verb="ListRecords", resumptionToken=TOKEN_1)

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.FAILED
    assert run.message.startswith("The repository answered badResumptionToken")
    assert run.added == 3


def test_the_librarys_own_copy_is_adopted_not_doubled(source, school, repository):
    imported = RecordFactory(title="Dế Mèn phiêu lưu ký", isbn="9786041000018")
    own = ItemFactory(record=imported, library=school, barcode="NDU0000011", call_number="X")
    serve_first_harvest(repository)

    run = harvest_now(source=source)

    assert (run.added, run.items_added, run.items_updated) == (5, 8, 1)
    own.refresh_from_db()
    assert (own.record, own.call_number) == (imported, "895.9223 TOH")
    assert HarvestedItem.objects.get(item=own).key == "9:11"
    assert Item.objects.filter(barcode__startswith="NDU").count() == 9


def test_one_run_at_a_time(source):
    run = queue_run(source=source, trigger=HarvestRun.Trigger.MANUAL)
    with pytest.raises(HarvestRefused) as refused:
        queue_run(source=source, trigger=HarvestRun.Trigger.SCHEDULE)
    assert refused.value.messages == [
        "A harvest of Koha THCS Nguyễn Du is already waiting or running."
    ]
    assert list(HarvestRun.objects.values_list("pk", flat=True)) == [run.pk]


def test_the_daily_schedule(source, school):
    weekly = HarvestSource.objects.create(
        name="Thủ công", base_url="https://example.org/oai", library=school, daily=False
    )
    source.daily = True
    source.save()
    now = timezone.now()
    assert due_sources(now) == [source]
    run = queue_run(source=source, trigger=HarvestRun.Trigger.SCHEDULE)
    assert due_sources(now) == []  # waiting
    HarvestRun.objects.filter(pk=run.pk).update(status=HarvestRun.Status.DONE)
    assert due_sources(now) == []  # harvested in the last day
    assert due_sources(now + datetime.timedelta(hours=23, minutes=51)) == [source]
    assert weekly not in due_sources(now + datetime.timedelta(days=3))


def test_runs_a_stopped_worker_left_open_are_given_up(source):
    run = queue_run(source=source, trigger=HarvestRun.Trigger.SCHEDULE)
    assert close_stale_runs(timezone.now() + datetime.timedelta(hours=5)) == 0
    assert close_stale_runs(timezone.now() + datetime.timedelta(hours=7)) == 1
    run.refresh_from_db()
    assert run.status == HarvestRun.Status.FAILED
    assert run.message == "No task worker finished this run; it was given up after six hours."


def test_a_koha_offering_marcxml_is_harvested_with_its_copies(school, repository):
    """Koha before 16.x (and Koha with its own formats file) names MARCXML "marcxml"."""
    source = HarvestSource.objects.create(
        name="Koha THCS Nguyễn Du (marcxml)",
        base_url=repository.url,
        library=school,
        metadata_prefix=HarvestSource.Prefix.MARCXML,
    )
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marcxml")
    repository.answer(koha("listrecords-2.xml"), verb="ListRecords", resumptionToken=TOKEN_1)

    run = harvest_now(source=source)

    assert run.status == HarvestRun.Status.DONE, run.errors
    assert counts(run) == {"added": 5, "updated": 0, "deleted": 0, "unchanged": 1, "failed": 0,
                           "items_added": 9, "items_updated": 0, "items_removed": 0}  # fmt: skip
    assert [r.get("metadataPrefix") for r in repository.requests] == [None, "marcxml", None]
    assert copies(school) == FIRST_HARVEST_COPIES
