"""OAI-PMH harvesting throughput: records per second, harvesting a second local instance.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_harvest] \
      .venv/bin/python bench/harvest.py --records 20000

The second instance is this code in its own process (gunicorn, 1 worker, 2 threads) on its
own database (the bench database's name + "_source", created, migrated and filled with
--records records if it holds fewer: a third with an ISBN, each with one or two copies at a
school library, Vietnamese-like titles). This script then harvests it over HTTP into a bench
library of its own database, marc21 with holdings, timing three runs:

- first harvest: every record created with its copies;
- full re-harvest (no `from`): every record sent again, found unchanged;
- incremental: the changes since the last run (none), the daily case.

Both processes share the machine, so those figures include the provider's work. To time
the harvester alone, the source's pages are then recorded once and replayed from memory by
a small HTTP server in this process, and the first harvest and the re-harvest are timed
again against it (`--profile` prints where the harvester's time goes). Before each first
harvest the harvested records and copies of the bench library are deleted.
"""

import argparse
import cProfile
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    LOCAL_POSTGRES,
    ROOT,
    database_label,
    ensure_database,
    own_database,
    setup_django,
)

URL = own_database(LOCAL_POSTGRES + "kb_bench_harvest")
setup_django(URL)

import requests  # noqa: E402
from dj_database_url import parse  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models.signals import pre_delete  # noqa: E402
from lxml import etree  # noqa: E402

from libraries.harvest.services import harvest_now  # noqa: E402
from libraries.models import HarvestedRecord, HarvestSource, Item, Library, Record  # noqa: E402
from libraries.models.catalog import _keep_tombstone  # noqa: E402

FILL = """
import os, random
from bench.vietnamese_words import PUBLISHERS, person, title
from libraries.models import Item, Library, Record
wanted = int(os.environ["BENCH_RECORDS"])
have = Record.objects.count()
district, _ = Library.objects.get_or_create(code="BHBT", defaults={"name": "Bench district", "kind": "district"})
school, _ = Library.objects.get_or_create(code="BTHCSA", defaults={"name": "Bench school", "kind": "school", "parent": district})
rng = random.Random(have)
def isbn(n):
    body = f"978606{n:06d}"
    check = (10 - sum(int(d) * (1 if k % 2 == 0 else 3) for k, d in enumerate(body)) % 10) % 10
    return body + str(check)
new = []
for n in range(have, wanted):
    r = Record(title=title(rng), authors=person(rng), publisher=rng.choice(PUBLISHERS),
               year=rng.randint(1980, 2025), language="vie", isbn=isbn(n) if n % 3 == 0 else "",
               call_number=f"{rng.randint(0, 999):03d}.{rng.randint(0, 99)}", source_library=school)
    r.refresh_search_text()
    new.append(r)
Record.objects.bulk_create(new, batch_size=2000)
items = []
for pk in Record.objects.filter(pk__gt=0).order_by("pk").values_list("pk", flat=True)[have:]:
    for copy in range(1 + pk % 2):
        items.append(Item(record_id=pk, library=school, location=school, barcode=f"BT{pk:08d}{copy}"))
Item.objects.bulk_create(items, batch_size=2000, ignore_conflicts=True)
print(Record.objects.count(), Item.objects.count())
"""


def source_database() -> str:
    config = parse(URL)
    name = config["NAME"]
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(name).with_name(Path(name).stem + '_source.sqlite3')}"
    return URL.rsplit("/", 1)[0] + "/" + name + "_source"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_source(records: int, folder: Path) -> tuple[subprocess.Popen, str]:
    database = source_database()
    ensure_database(database)
    port = free_port()
    (folder / "source_settings.py").write_text(
        "from training_site.settings.test import *  # noqa: F403\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO")},
        "DJANGO_SETTINGS_MODULE": "source_settings",
        "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
        "DATABASE_URL": database,
        "SITE_URL": f"http://127.0.0.1:{port}",
        "BENCH_RECORDS": str(records),
        "DEBUG": "0",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    filled = subprocess.run(
        [*manage, "shell", "-c", FILL], cwd=ROOT, env=env, check=True, capture_output=True
    )
    print(f"source: {database}, records and copies: {filled.stdout.decode().split()}")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "training_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "2", "--timeout", "300"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/oai/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    sys.exit("The source instance did not start.")


def reset(library: Library) -> None:
    """Forget earlier bench harvests: sources and runs, then the copies and records (without
    OAI-PMH tombstones, which a bench database does not need and which cost a query each)."""
    HarvestedRecord.objects.filter(source__library=library).delete()
    HarvestSource.objects.filter(library=library).delete()
    Item.objects.filter(library=library).delete()
    pre_delete.disconnect(sender=Record, dispatch_uid="record_tombstone")
    try:
        Record.objects.filter(source_library=library).delete()
    finally:
        pre_delete.connect(_keep_tombstone, sender=Record, dispatch_uid="record_tombstone")


def record_pages(url: str) -> dict[str, bytes]:
    """Every answer of a full marc21 harvest, keyed by the request's token ("" first)."""
    pages = {"identify": requests.get(url, params={"verb": "Identify"}, timeout=300).content}
    params, key = {"verb": "ListRecords", "metadataPrefix": "marc21"}, ""
    while True:
        body = requests.get(url, params=params, timeout=300).content
        pages[key] = body
        token = etree.fromstring(body).find(
            ".//{http://www.openarchives.org/OAI/2.0/}resumptionToken"
        )
        if token is None or not token.text:
            return pages
        params, key = {"verb": "ListRecords", "resumptionToken": token.text}, token.text


def replay(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            query = dict(parse_qsl(urlsplit(self.path).query))
            if query.get("verb") == "Identify":
                body = pages["identify"]
            else:
                body = pages[query.get("resumptionToken", "")]
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/oai/"


def timed(source: HarvestSource, label: str, profile: bool = False) -> None:
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    run = harvest_now(source=source)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    taken = run.added + run.updated + run.deleted + run.unchanged + run.failed
    print(
        f"{label}: {taken} records in {seconds:.1f} s, {taken / seconds:,.0f} records/s "
        f"(added {run.added}, unchanged {run.unchanged}, failed {run.failed}, copies added "
        f"{run.items_added}, {run.requests} requests, status {run.status})"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    settings.HARVEST_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with tempfile.TemporaryDirectory() as folder:
        server, url = start_source(args.records, Path(folder))
        try:
            library, _ = Library.objects.get_or_create(
                code="BHARV", defaults={"name": "Bench harvesting library"}
            )
            reset(library)
            source = HarvestSource.objects.create(name="bench", base_url=url, library=library)
            print(f"database: {database_label()} ({connection.vendor}), from {url}")
            timed(source, "first harvest")
            HarvestSource.objects.filter(pk=source.pk).update(next_from=None)
            source.refresh_from_db()
            timed(source, "full re-harvest (all unchanged)")
            source.refresh_from_db()
            timed(source, "incremental (nothing changed)")
            pages = record_pages(url)
        finally:
            server.terminate()
            server.wait(timeout=30)
    replayer, replay_url = replay(pages)
    try:
        print(f"harvester alone: {len(pages) - 1} recorded pages replayed from memory")
        reset(library)
        source = HarvestSource.objects.create(name="replay", base_url=replay_url, library=library)
        timed(source, "first harvest (replayed)", profile=args.profile)
        HarvestSource.objects.filter(pk=source.pk).update(next_from=None)
        source.refresh_from_db()
        timed(source, "full re-harvest (replayed, all unchanged)", profile=args.profile)
    finally:
        replayer.shutdown()


if __name__ == "__main__":
    main()
