"""Harvesting a second instance of this site: a real gunicorn process with its own SQLite
database (migrated, filled and changed by `manage.py shell` in that instance's environment),
whose /oai/ pages by 7 records. The harvest runs here, against the test database: first
run, a second run that adds nothing, changes and a deletion there, and the incremental run
that applies exactly those."""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from libraries.harvest.services import harvest_now
from libraries.models import HarvestedRecord, HarvestRun, HarvestSource, Item, Record
from tests.factories import LibraryFactory

ROOT = Path(__file__).resolve().parents[3]

LOAD = """
import json
from libraries.catalog.services import add_items, save_item
from libraries.models import Item, Library, Record
district = Library.objects.create(code="HBT", name="Thư viện huyện Hòa Bình", kind="district")
a = Library.objects.create(code="THCSA", name="THCS An Bình", kind="school", parent=district)
b = Library.objects.create(code="THCSB", name="THCS Bình Minh", kind="school", parent=district)
for n in range(1, 31):
    record = Record.objects.create(
        title=f"Sách số {n}", authors="Nguyễn Văn A; Trần Thị B", publisher="NXB Giáo dục",
        year=2000 + n, language="vie", call_number=f"895.922 S{n}", source_library=a,
    )
    if n % 10:
        add_items(record=record, library=a, count=1 + n % 2)
    if n % 5 == 0:
        add_items(record=record, library=b, count=1)
lost = Item.objects.filter(record__title="Sách số 6", library=a).first()
lost.status = Item.Status.LOST
save_item(lost)
print(json.dumps(sorted(Item.objects.filter(library=a).values_list("barcode", flat=True))))
"""

CHANGE = """
import json
from libraries.catalog.services import add_items, save_item, save_record
from libraries.models import Item, Library, Record
a = Library.objects.get(code="THCSA")
b = Library.objects.get(code="THCSB")
renamed = Record.objects.get(title="Sách số 3")
renamed.title = "Sách số 3 (tái bản)"
save_record(renamed)
withdrawn = Item.objects.filter(record__title="Sách số 4", library=a).first()
withdrawn.status = Item.Status.WITHDRAWN
save_item(withdrawn)
(added,) = add_items(record=Record.objects.get(title="Sách số 7"), library=a, count=1)
add_items(record=Record.objects.get(title="Sách số 15"), library=b, count=1)
gone = Record.objects.get(title="Sách số 9")
gone_barcodes = sorted(gone.items.values_list("barcode", flat=True))
gone.items.all().delete()
gone.delete()
print(json.dumps({"withdrawn": withdrawn.barcode, "added": added.barcode, "gone": gone_barcodes}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Instance:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/oai/"
        (folder / "instance_settings.py").write_text(
            "from training_site.settings.test import *  # noqa: F403\nOAI_PAGE_SIZE = 7\n"
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO"))},
            "DJANGO_SETTINGS_MODULE": "instance_settings",
            "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
            "DATABASE_URL": f"sqlite:///{folder / 'instance.sqlite3'}",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
        }
        self.server = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def script(self, code: str):
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start(self) -> None:
        log = (self.folder / "gunicorn.log").open("w")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "training_site.wsgi", "--bind",
             f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "2"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.server.poll() is None:
            try:
                if requests.get(self.url, params={"verb": "Identify"}, timeout=60).ok:
                    return
            except requests.RequestException:  # not listening yet, or still starting
                time.sleep(0.5)
        self.stop()
        raise AssertionError((self.folder / "gunicorn.log").read_text())

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)


@pytest.fixture(autouse=True)
def _patient(settings):
    """The second instance shares a busy machine: give its pages time."""
    settings.HARVEST_TIMEOUT = (10, 120)


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    second = Instance(tmp_path_factory.mktemp("second-instance"))
    second.manage("migrate", "--noinput")
    second.barcodes = second.script(LOAD)
    second.start()
    try:
        yield second
    finally:
        second.stop()


def held(library) -> dict:
    return dict(
        Item.objects.filter(library=library).values_list("barcode", "status").order_by("barcode")
    )


def counts(run) -> dict:
    names = ("added", "updated", "deleted", "unchanged", "failed", "items_added",
             "items_updated", "items_removed")  # fmt: skip
    return {name: getattr(run, name) for name in names}


def test_harvesting_another_instance(instance, db):
    school = LibraryFactory(code="ABINH", name="THCS An Bình (bản sao hợp nhất)")
    source = HarvestSource.objects.create(
        name="Phiên bản huyện Hòa Bình", base_url=instance.url, set_spec="library:THCSA",
        library=school,
    )  # fmt: skip

    first = harvest_now(source=source)

    # Records 1..30 except 10, 20, 30 have copies at THCSA: 27 records, 7 a page.
    assert first.status == HarvestRun.Status.DONE, (first.message, first.errors)
    assert counts(first) == {"added": 27, "updated": 0, "deleted": 0, "unchanged": 0,
                             "failed": 0, "items_added": len(instance.barcodes),
                             "items_updated": 0, "items_removed": 0}  # fmt: skip
    assert first.requests == 1 + 4  # Identify, then 27 records in pages of 7
    lost = Record.objects.get(title="Sách số 6").items.get(status=Item.Status.LOST)
    expected = dict.fromkeys(instance.barcodes, Item.Status.AVAILABLE)
    expected[lost.barcode] = Item.Status.LOST
    # Only THCSA's copies (952 $a), owned here by the source's library, barcodes kept.
    assert held(school) == expected
    assert Item.objects.exclude(library=school).count() == 0
    five = Record.objects.get(title="Sách số 5")
    assert (five.authors, five.publisher, five.year, five.call_number) == (
        "Nguyễn Văn A; Trần Thị B",
        "NXB Giáo dục",
        2005,
        "895.922 S5",
    )
    assert [i.call_number for i in five.items.all()] == ["895.922 S5", "895.922 S5"]
    assert HarvestedRecord.objects.filter(source=source).count() == 27
    assert all(
        i.startswith("oai:127.0.0.1:record/")
        for i in HarvestedRecord.objects.values_list("identifier", flat=True)
    )

    source.refresh_from_db()
    assert source.granularity == "second"
    started = source.next_from.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    second = harvest_now(source=source)

    assert second.status == HarvestRun.Status.DONE
    assert (first.from_used, second.from_used) == ("", started)
    assert counts(second) == dict.fromkeys(counts(second), 0)
    assert held(school) == expected

    change = instance.script(CHANGE)
    # `from` is inclusive at the repository's granularity (seconds): changes made in the
    # second the third run starts are rightly sent again to the fourth. A school's edits come
    # before a nightly harvest; so do these.
    time.sleep(1.05 - time.time() % 1)
    third = harvest_now(source=source)

    assert third.status == HarvestRun.Status.DONE, third.errors
    # Changed there: a title (3), a withdrawn copy (4), a new copy (7), a deleted record (9);
    # record 15 changed only by another school's new copy: re-sent, nothing to do here.
    assert counts(third) == {"added": 0, "updated": 3, "deleted": 1, "unchanged": 1,
                             "failed": 0, "items_added": 1, "items_updated": 1,
                             "items_removed": len(change["gone"])}  # fmt: skip
    for barcode in change["gone"]:
        del expected[barcode]
    expected[change["withdrawn"]] = Item.Status.WITHDRAWN
    expected[change["added"]] = Item.Status.AVAILABLE
    assert held(school) == expected
    assert Record.objects.filter(title="Sách số 3 (tái bản)").count() == 1
    assert not Record.objects.filter(title__in=["Sách số 3", "Sách số 9"]).exists()

    fourth = harvest_now(source=source)
    assert counts(fourth) == dict.fromkeys(counts(fourth), 0)


def test_dublin_core_records_match_and_bring_no_copies(instance, db):
    school = LibraryFactory(code="ABINH")
    marc = HarvestSource.objects.create(
        name="MARC", base_url=instance.url, set_spec="library:THCSB", library=school
    )
    harvest_now(source=marc)
    records, items = Record.objects.count(), Item.objects.count()
    dc = HarvestSource.objects.create(
        name="DC", base_url=instance.url, set_spec="library:THCSB", library=school,
        metadata_prefix=HarvestSource.Prefix.OAI_DC,
    )  # fmt: skip

    run = harvest_now(source=dc)

    assert run.status == HarvestRun.Status.DONE, run.errors
    assert (run.added, run.items_added) == (records, 0)
    # Same title, authors, publisher and year: the fingerprint matches the MARC records.
    assert (Record.objects.count(), Item.objects.count()) == (records, items)
    assert set(
        HarvestedRecord.objects.filter(source=dc).values_list("record_id", "created_record")
    ) == {(pk, False) for pk in Record.objects.values_list("pk", flat=True)}
