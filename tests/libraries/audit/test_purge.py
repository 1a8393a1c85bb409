"""`manage.py purge_audit_log` (libraries/management/commands/purge_audit_log.py): entries
older than AUDIT_LOG_RETENTION_DAYS (or --days) go, the others stay; --dry-run deletes none."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from wagtail.models import ModelLogEntry, Page, PageLogEntry

from libraries.network.audit import log_change
from tests.factories import LibraryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged_entries(db):
    """Entries 10, 400 and 800 days old, and one page entry 800 days old."""
    library = LibraryFactory()
    now = timezone.now()
    for days in (10, 400, 800):
        log_change(library, "libraries.library.edit", by=None, before={}, after={"name": days},
                   library=library)  # fmt: skip
        entry = ModelLogEntry.objects.latest("pk")
        entry.timestamp = now - datetime.timedelta(days=days)
        entry.save()
    page = Page.objects.first()  # Wagtail's root page
    PageLogEntry.objects.log_action(
        page, "wagtail.edit", timestamp=now - datetime.timedelta(days=800)
    )
    return library


def ages() -> list:
    return sorted(entry.data["after"]["name"] for entry in ModelLogEntry.objects.all())


def run(*args) -> str:
    out = io.StringIO()
    call_command("purge_audit_log", *args, stdout=out)
    return out.getvalue().strip()


def test_default_retention_keeps_two_years(aged_entries, settings):
    assert settings.AUDIT_LOG_RETENTION_DAYS == 730
    assert run() == "Deleted 2 audit log entries older than 730 days."
    assert ages() == [10, 400]
    assert not PageLogEntry.objects.exists()


def test_days_and_setting(aged_entries, settings):
    settings.AUDIT_LOG_RETENTION_DAYS = 300
    assert run("--days", "500") == "Deleted 2 audit log entries older than 500 days."
    assert ages() == [10, 400]
    assert run() == "Deleted 1 audit log entries older than 300 days."
    assert ages() == [10]


def test_dry_run_deletes_nothing(aged_entries):
    before = list(ModelLogEntry.objects.order_by("pk").values_list("pk", "timestamp"))
    assert run("--dry-run", "--days", "5") == "Would delete 4 audit log entries older than 5 days."
    assert list(ModelLogEntry.objects.order_by("pk").values_list("pk", "timestamp")) == before
    assert PageLogEntry.objects.count() == 1


def test_days_must_be_positive(aged_entries):
    with pytest.raises(CommandError):
        run("--days", "0")
    assert ages() == [10, 400, 800]
