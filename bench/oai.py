"""OAI-PMH harvest throughput: records per second for a full ListRecords harvest of /oai/.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_oai] \
      .venv/bin/python bench/oai.py --records 20000

Fills its own database with --records records (bulk_create, a third of them with a copy
at a school library, 1 % deleted) if it holds fewer, then harvests every page in-process
with the Django test client (server time: queries, MARC building, XML), following the
resumption tokens exactly as a harvester does, for oai_dc and for marc21.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import LOCAL_POSTGRES, database_label, own_database, setup_django  # noqa: E402

setup_django(own_database(LOCAL_POSTGRES + "kb_bench_oai"))

from django.test import Client  # noqa: E402
from lxml import etree  # noqa: E402

from libraries.models import Item, Library, Record  # noqa: E402

NS = {"o": "http://www.openarchives.org/OAI/2.0/"}


def fill(count: int) -> None:
    have = Record.objects.count()
    if have >= count:
        return
    district, _ = Library.objects.get_or_create(
        code="BHBT", defaults={"name": "Bench district", "kind": Library.Kind.DISTRICT}
    )
    school, _ = Library.objects.get_or_create(
        code="BTHCSA", defaults={"name": "Bench school", "kind": "school", "parent": district}
    )
    new = [
        Record(title=f"Sách thử {n}", authors="Nguyễn Văn A", year=2000 + n % 25, language="vie")
        for n in range(have, count)
    ]
    for record in new:
        record.refresh_search_text()
    Record.objects.bulk_create(new, batch_size=2000)
    pks = list(Record.objects.order_by("pk").values_list("pk", flat=True))
    Item.objects.bulk_create(
        (
            Item(record_id=pk, library=school, location=school, barcode=f"B{pk:09d}")
            for pk in pks[have::3]
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )
    gone = pks[have::100]
    Item.objects.filter(record_id__in=gone).delete()
    Record.objects.filter(pk__in=gone).delete()


def harvest(client: Client, prefix: str) -> tuple[int, int, float]:
    params = {"verb": "ListRecords", "metadataPrefix": prefix}
    records = pages = 0
    start = time.perf_counter()
    while True:
        root = etree.fromstring(client.get("/oai/", params).content)
        records += len(root.findall(".//o:record", NS))
        pages += 1
        token = root.find(".//o:resumptionToken", NS)
        if token is None or not token.text:
            break
        params = {"verb": "ListRecords", "resumptionToken": token.text}
    return records, pages, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    fill(args.records)
    print(f"database: {database_label()}, records: {Record.objects.count()}")
    client = Client()
    for prefix in ("oai_dc", "marc21"):
        records, pages, seconds = harvest(client, prefix)
        print(
            f"ListRecords {prefix}: {records} records in {pages} pages, {seconds:.1f} s, "
            f"{records / seconds:,.0f} records/s"
        )


if __name__ == "__main__":
    main()
