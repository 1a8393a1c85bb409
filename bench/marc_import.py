"""MARC import throughput next to pymarc's bare parse rate on the same file.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench] \
      .venv/bin/python bench/marc_import.py --records 50000

Writes a UTF-8 MARC21 file of Vietnamese-like records (001, 020, 100, 245, 260, 650, 082 and
one or two 952 copies each), times pymarc.MARCReader over it, then times import_marc into a
bench library (first import: creates; second import: matches and updates nothing). Creates
and migrates the database if needed; SQLite works too (DATABASE_URL=sqlite:///kb_bench.sqlite3).
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import LOCAL_POSTGRES, database_label, own_database, setup_django  # noqa: E402

setup_django(own_database(LOCAL_POSTGRES + "kb_bench"), settings="training_site.settings.dev")

import pymarc  # noqa: E402

from bench.vietnamese_words import PUBLISHERS, SUBJECTS, person, title  # noqa: E402
from libraries.catalog.marc import import_marc  # noqa: E402
from libraries.models import Item, Library, Record  # noqa: E402


def write_file(path: Path, count: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    S = pymarc.Subfield
    with open(path, "wb") as out:
        for i in range(count):
            r = pymarc.Record(force_utf8=True, leader="00000nam a2200000 a 4500")
            r.add_field(pymarc.Field(tag="001", data=f"BM{i:08d}"))
            r.add_field(pymarc.Field(tag="003", data="BENCHMARC"))
            r.add_field(
                pymarc.Field(
                    tag="008", data=f"250101s{rng.randint(1980, 2025)}    vm            000 0 vie d"
                )
            )
            body = f"978605{i:06d}"
            check = (
                10 - sum(int(d) * (1 if k % 2 == 0 else 3) for k, d in enumerate(body)) % 10
            ) % 10
            r.add_field(
                pymarc.Field(
                    tag="020", indicators=[" ", " "], subfields=[S("a", body + str(check))]
                )
            )
            r.add_field(
                pymarc.Field(
                    tag="082",
                    indicators=["0", "4"],
                    subfields=[S("a", f"{rng.randint(0, 999):03d}.{rng.randint(0, 99)}")],
                )
            )
            r.add_field(
                pymarc.Field(tag="100", indicators=["1", " "], subfields=[S("a", person(rng))])
            )
            r.add_field(
                pymarc.Field(
                    tag="245",
                    indicators=["1", "0"],
                    subfields=[S("a", title(rng) + " /"), S("c", person(rng))],
                )
            )
            r.add_field(
                pymarc.Field(
                    tag="260",
                    indicators=[" ", " "],
                    subfields=[
                        S("a", "Hà Nội :"),
                        S("b", rng.choice(PUBLISHERS) + ","),
                        S("c", str(rng.randint(1980, 2025))),
                    ],
                )
            )
            for subject in rng.sample(SUBJECTS, 2):
                r.add_field(
                    pymarc.Field(tag="650", indicators=[" ", "7"], subfields=[S("a", subject)])
                )
            for c in range(rng.randint(1, 2)):
                r.add_field(
                    pymarc.Field(
                        tag="952",
                        indicators=[" ", " "],
                        subfields=[S("p", f"BMARC{i * 2 + c:08d}"), S("o", "895.922")],
                    )
                )
            out.write(r.as_marc())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    library, _ = Library.objects.get_or_create(code="BMARC", defaults={"name": "MARC bench"})
    Item.objects.filter(library=library).delete()
    Record.objects.filter(source_library=library).delete()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mrc"
        write_file(path, args.records)
        size = path.stat().st_size
        print(f"database: {database_label()}; existing records {Record.objects.count():,}")
        print(f"file: {args.records:,} records, {size / 1e6:.1f} MB")
        start = time.perf_counter()
        with open(path, "rb") as fh:
            parsed = sum(1 for r in pymarc.MARCReader(fh, to_unicode=True) if r is not None)
        bare = parsed / (time.perf_counter() - start)
        print(f"pymarc bare parse: {bare:,.0f} records/s")
        for label in ("first import (create)", "second import (match, no change)"):
            start = time.perf_counter()
            with open(path, "rb") as fh:
                result = import_marc(fh, library=library, batch_size=args.batch_size)
            elapsed = time.perf_counter() - start
            rate = result.read / elapsed
            print(
                f"{label}: {rate:,.0f} records/s ({elapsed:.1f} s; created {result.created}, "
                f"updated {result.updated}, unchanged {result.unchanged}, failed {result.failed}, "
                f"items {result.items_created}); bare parse / import = {bare / rate:.2f}x"
            )
    Item.objects.filter(library=library).delete()
    Record.objects.filter(source_library=library).delete()


if __name__ == "__main__":
    main()
