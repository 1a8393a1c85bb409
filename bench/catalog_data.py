"""Generate a network-sized catalog on PostgreSQL quickly (COPY), for the search benchmark.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench] \
      .venv/bin/python bench/catalog_data.py --records 300000 --items 1000000 --libraries 200 \
      [--books 200]

Creates and migrates the database if needed. Existing catalog rows there are deleted.
--books N gives N random records an open-access digital file with the full text of one of
the fixture EPUBs (tests/fixtures/ebooks, in turns), stored as the digital collection stores
it (words, body, first place of each word), so that search finds words inside books and shows
a passage (0: none). Only the texts are stored, not the files.
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import LOCAL_POSTGRES, database_label, own_database, setup_django  # noqa: E402

setup_django(
    own_database(LOCAL_POSTGRES + "kb_bench", postgres_only=True),  # COPY is PostgreSQL's
    settings="training_site.settings.dev",
)

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.vietnamese_words import PUBLISHERS, SUBJECTS, person, title  # noqa: E402
from libraries.models import BarcodeSequence, DigitalFile, Library, Record  # noqa: E402
from libraries.models.catalog import DESCRIPTIVE_FIELDS, SEARCH_FIELDS  # noqa: E402

STATUSES = ["available"] * 14 + ["on_loan"] * 4 + ["in_process", "damaged", "missing", "lost"]


def isbn13(n: int) -> str:
    body = f"978604{n:06d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def make_libraries(count: int) -> list[Library]:
    # TRUNCATE, not the ORM's delete: that one reads a million items to cascade to loans,
    # holds and transfers (hours). Every table pointing at these rows is emptied too.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE libraries_digitalfile, libraries_item, libraries_record, "
            "libraries_barcodesequence CASCADE"
        )
    top, _ = Library.objects.get_or_create(
        code="BTVT", defaults={"name": "Thư viện tỉnh (bench)", "kind": "provincial"}
    )
    districts = []
    for d in range(10):
        lib, _ = Library.objects.get_or_create(
            code=f"BD{d:02d}",
            defaults={"name": f"Thư viện huyện {d}", "kind": "district", "parent": top},
        )
        districts.append(lib)
    libraries = [top, *districts]
    for s in range(count - len(libraries)):
        lib, _ = Library.objects.get_or_create(
            code=f"BS{s:03d}",
            defaults={
                "name": f"Thư viện trường {s}",
                "kind": "school",
                "parent": districts[s % 10],
            },
        )
        libraries.append(lib)
    return libraries[:count]


def copy_records(n: int, rng: random.Random) -> list[int]:
    now = timezone.now()
    columns = (
        *DESCRIPTIVE_FIELDS,
        "control_number",
        "control_number_source",
        *SEARCH_FIELDS,
        "created_at",
        "updated_at",
    )
    probe = Record()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY libraries_record ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(n):
                probe.title = title(rng)
                probe.subtitle = ""
                probe.authors = "; ".join(person(rng) for _ in range(rng.choice((1, 1, 1, 2))))
                probe.publisher = rng.choice(PUBLISHERS)
                probe.place = "Hà Nội"
                probe.year = rng.randint(1975, 2025)
                probe.isbn = isbn13(i) if rng.random() < 0.7 else ""
                probe.subjects = "\n".join(rng.sample(SUBJECTS, rng.randint(1, 3)))
                probe.summary = ""
                probe.language = "vie"
                probe.call_number = f"{rng.randint(0, 999):03d}.{rng.randint(0, 99)}"
                probe.control_number, probe.control_number_source = f"B{i:07d}", "BENCH"
                probe.created_at = probe.updated_at = now
                probe.refresh_search_text()
                copy.write_row(tuple(getattr(probe, column) for column in columns))
        cursor.execute("SELECT id FROM libraries_record ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def copy_items(n: int, record_ids: list[int], libraries: list[Library], rng: random.Random):
    now = timezone.now()
    counters = {lib.pk: 0 for lib in libraries}
    # School libraries hold most copies; a few records are very popular.
    weights = [
        30 if lib.kind == "provincial" else 8 if lib.kind == "district" else 1 for lib in libraries
    ]
    columns = (
        "record_id",
        "library_id",
        "location_id",
        "barcode",
        "call_number",
        "item_type",
        "status",
        "notes",
        "created_at",
        "updated_at",
    )
    sql = f"COPY libraries_item ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        chosen = rng.choices(libraries, weights=weights, k=n)
        for i in range(n):
            lib = chosen[i]
            counters[lib.pk] += 1
            record = record_ids[int(len(record_ids) * rng.random() ** 1.3)]
            copy.write_row(
                (
                    record,
                    lib.pk,
                    lib.pk,
                    f"{lib.code}{counters[lib.pk]:07d}",
                    "",
                    "book",
                    rng.choice(STATUSES),
                    "",
                    now,
                    now,
                )
            )
    BarcodeSequence.objects.bulk_create(
        [BarcodeSequence(library_id=pk, last_number=last) for pk, last in counters.items()]
    )


def add_books(count: int, record_ids: list[int], library: Library, rng: random.Random) -> int:
    """Open-access texts of the fixture EPUBs on `count` random records (see the docstring)."""
    from bench.books import add_open_books, fixture_texts

    texts = fixture_texts()
    DigitalFile.objects.filter(file__startswith="digital/bench-").delete()
    add_open_books(rng.sample(record_ids, count), library, rng, texts)
    return len(texts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--libraries", type=int, default=200)
    parser.add_argument("--books", type=int, default=0)
    parser.add_argument(
        "--books-only", action="store_true", help="keep the catalog, (re)place only the books"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"database: {database_label()}")
    rng = random.Random(args.seed)
    started = time.perf_counter()
    if args.books_only:
        record_ids = list(Record.objects.order_by("pk").values_list("pk", flat=True))
        library = Library.objects.get(code="BTVT")
        kinds = add_books(args.books, record_ids, library, rng)
        print(
            f"books: {args.books} open texts ({kinds} EPUBs) in {time.perf_counter() - started:.1f} s"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE libraries_digitalfile, libraries_digitaltext, libraries_digitalwordplace"
            )
        return
    libraries = make_libraries(args.libraries)
    t = time.perf_counter()
    record_ids = copy_records(args.records, rng)
    print(f"records: {len(record_ids):,} in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    copy_items(args.items, record_ids, libraries, rng)
    print(
        f"items: {args.items:,} over {len(libraries)} libraries in {time.perf_counter() - t:.1f} s"
    )
    if args.books:
        t = time.perf_counter()
        kinds = add_books(args.books, record_ids, libraries[0], rng)
        print(f"books: {args.books} open texts ({kinds} EPUBs) in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE libraries_record")
        cursor.execute("VACUUM ANALYZE libraries_item")
        cursor.execute(
            "VACUUM ANALYZE libraries_digitalfile, libraries_digitaltext, "
            "libraries_digitalwordplace"
        )
    print(f"analyze: {time.perf_counter() - t:.1f} s; total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
