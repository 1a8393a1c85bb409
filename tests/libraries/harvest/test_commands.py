"""`manage.py harvest_oai` and `manage.py run_due_harvests` (libraries/management/commands/),
and the task behind them (libraries/harvest/tasks.py)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from libraries.models import HarvestRun, HarvestSource, Item
from tests.factories import LibraryFactory
from tests.libraries.harvest.conftest import koha

pytestmark = pytest.mark.usefixtures("english")
TOKEN = "marc21/3/1970-01-01T00:00:00Z/2026-11-30T23:59:59Z//0/4"


@pytest.fixture
def school(db):
    return LibraryFactory(code="NDU")


def serve(repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(koha("listrecords-2.xml"), verb="ListRecords", resumptionToken=TOKEN)
    repository.answer(
        koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21",
        **{"from": "2026-11-30"},
    )  # fmt: skip


def harvest(*args) -> str:
    out = io.StringIO()
    call_command("harvest_oai", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_harvest_oai_prints_counts_and_a_second_run_adds_nothing(school, repository):
    serve(repository)
    assert harvest(repository.url, "--library", "ndu") == (
        "added: 5, updated: 0, deleted: 0, unchanged: 1, failed: 0; "
        "copies added: 9, updated: 0, removed: 0"
    )
    assert harvest(repository.url, "--library", "NDU") == (
        "added: 0, updated: 0, deleted: 0, unchanged: 6, failed: 0; "
        "copies added: 0, updated: 0, removed: 0"
    )
    source = HarvestSource.objects.get()
    assert (source.name, source.base_url, source.library, source.metadata_prefix) == (
        repository.url,
        repository.url,
        school,
        "marc21",
    )
    assert list(source.runs.values_list("trigger", "from_used")) == [
        ("command", "2026-11-30"),
        ("command", ""),
    ]
    assert Item.objects.filter(library=school).count() == 9


def test_harvest_oai_from_a_given_date(school, repository):
    serve(repository)
    harvest(repository.url, "--library", "NDU", "--from", "2026-11-30T00:00:00Z")
    assert repository.requests[1]["from"] == "2026-11-30"  # sent in the repository's grain


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--library", "NDU", "--from", "30/11/2026"],
            "--from must be a date: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC), not 30/11/2026.",
        ),
        (
            ["--library", "NDU", "--from", "2026-02-30"],
            "--from must be a date: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC), not 2026-02-30.",
        ),
        (["--library", "KHONG"], "No active library with code KHONG."),
    ],
)
def test_harvest_oai_refuses_bad_arguments(school, repository, args, message):
    with pytest.raises(CommandError) as refused:
        harvest(repository.url, *args)
    assert str(refused.value) == message
    assert (repository.requests, HarvestSource.objects.count()) == ([], 0)


def test_harvest_oai_refuses_internal_addresses(school, settings):
    settings.HARVEST_ALLOWED_NETWORKS = []
    with pytest.raises(CommandError) as refused:
        harvest("http://127.0.0.1:9/oai/", "--library", "NDU")
    assert str(refused.value) == (
        "The host 127.0.0.1 is an internal address (127.0.0.1): the harvester only reads "
        "public addresses."
    )
    assert HarvestSource.objects.count() == 0


def test_harvest_oai_speaks_vietnamese(school, repository):
    with translation.override("vi"), pytest.raises(CommandError) as refused:
        harvest(repository.url, "--library", "NDU", "--from", "hôm qua")
    assert str(refused.value) == (
        "--from phải là một ngày: YYYY-MM-DD hoặc YYYY-MM-DDThh:mm:ssZ (giờ UTC), "
        "không phải hôm qua."
    )


def test_harvest_oai_reports_failures_with_exit_status_2(school, repository):
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("broken-page-2.xml"), verb="ListRecords", metadataPrefix="marc21")
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("harvest_oai", repository.url, "--library", "NDU", stdout=io.StringIO(),
                     stderr=err)  # fmt: skip
    assert (str(refused.value), refused.value.returncode) == (
        "1 record(s) could not be harvested.",
        2,
    )
    assert err.getvalue().splitlines() == [
        "Problem: KOHA-OAI-TEST:11: the MARC record has no valid leader (24 characters)"
    ]


def test_harvest_oai_says_why_a_run_stopped(school, repository):
    repository.answer((404, b"no"), verb="Identify")
    with pytest.raises(CommandError) as refused:
        harvest(repository.url, "--library", "NDU")
    assert str(refused.value) == "The harvest stopped: The repository answered HTTP 404."
    assert HarvestRun.objects.get().status == HarvestRun.Status.FAILED


def test_run_due_harvests_queues_the_daily_sources(
    school, repository, django_capture_on_commit_callbacks
):
    serve(repository)
    daily = HarvestSource.objects.create(
        name="Hằng ngày", base_url=repository.url, library=school, daily=True
    )
    HarvestSource.objects.create(
        name="Thủ công", base_url=repository.url, set_spec="x", library=school
    )
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_due_harvests", stdout=out)
    assert out.getvalue().splitlines() == [f"Queued: {daily}", "Harvests queued: 1"]
    (run,) = HarvestRun.objects.all()
    assert (run.source, run.trigger, run.status, run.added) == (daily, "schedule", "done", 5)

    again = io.StringIO()
    call_command("run_due_harvests", stdout=again)  # harvested less than a day ago
    assert again.getvalue().splitlines() == ["Harvests queued: 0"]
    assert HarvestRun.objects.count() == 1
