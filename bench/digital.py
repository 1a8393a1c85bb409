"""The digital collection's figures: EPUB import rate, signed file serving, search inside books.

    .venv/bin/python bench/digital.py import --rounds 5
    .venv/bin/python bench/digital.py serve --requests 200
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench \
      .venv/bin/python bench/digital.py search --books 200 --rounds 3 [--without-digital]

import: validation and metadata (the ZIP guard, container, package document, text and
cover) of the real EPUBs of tests/fixtures/ebooks/, in files and MB per second; nothing is
written. serve: server time of `digital_file` (access check, signed redirect) and of
`signed_file` (signature, access check again, the whole file read from private storage),
in-process through a RequestFactory, p50/p95; a database of its own (kb_bench_digital).
search: the /catalog/ query mix of bench/catalog_search.py on a filled catalog (kb_bench)
with `--books` open-access books' texts added to random records (removed at the end);
`--without-digital` skips the two digital steps, to compare with the search as it was.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import LOCAL_POSTGRES, database_label, own_database, p95, setup_django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EBOOKS = ROOT / "tests" / "fixtures" / "ebooks"


def figures(label: str, values: list[float]) -> str:
    return (
        f"{label}: p50 {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms, "
        f"max {max(values):.1f} ms ({len(values)} requests)"
    )


def bench_import(rounds: int) -> None:
    from libraries.digital.validation import validate_book

    books = sorted(EBOOKS.glob("*.epub"))
    contents = {path.name: path.read_bytes() for path in books}
    for name, data in contents.items():  # warm up
        validate_book(io.BytesIO(data), name)
    per_book: dict[str, list[float]] = {}
    start_all = time.perf_counter()
    for _ in range(rounds):
        for name, data in contents.items():
            start = time.perf_counter()
            validate_book(io.BytesIO(data), name)
            per_book.setdefault(name, []).append(time.perf_counter() - start)
    total = time.perf_counter() - start_all
    count = rounds * len(contents)
    size = rounds * sum(len(d) for d in contents.values())
    print(f"EPUB validation and metadata: {count} files in {total:.2f} s")
    print(f"  {count / total:.1f} files/s, {size / total / 1e6:.1f} MB/s")
    for name, values in per_book.items():
        print(
            f"  {name} ({len(contents[name]) / 1e6:.2f} MB): median "
            f"{statistics.median(values) * 1000:.0f} ms"
        )


def bench_serve(requests: int) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory, override_settings

    from libraries.digital.services import OPERATOR, DigitalError, add_file
    from libraries.digital.views import digital_file, signed_file
    from libraries.models import DigitalFile, Library

    library, _ = Library.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    files = {}
    for name in ("moby-dick.epub", "childrens-literature.epub"):
        found = DigitalFile.objects.filter(library=library, original_name=name).first()
        if found is None:
            try:
                found = add_file(
                    upload=io.BytesIO((EBOOKS / name).read_bytes()),
                    name=name,
                    library=library,
                    by=OPERATOR,
                    access_level=DigitalFile.Access.OPEN,
                ).file
            except DigitalError as error:
                sys.exit(error.message)
        files[name] = found
    factory = RequestFactory()

    def once(file, accel: bool):
        request = factory.get(f"/digital/{file.pk}/file/")
        request.user = AnonymousUser()
        start = time.perf_counter()
        redirect = digital_file(request, file.pk)
        middle = time.perf_counter()
        token = redirect["Location"].rstrip("/").rsplit("/", 1)[-1]
        request = factory.get(redirect["Location"])
        request.user = AnonymousUser()
        with override_settings(DIGITAL_X_ACCEL_PREFIX="/_digital/" if accel else ""):
            response = signed_file(request, token)
            size = sum(len(c) for c in response.streaming_content) if response.streaming else 0
        end = time.perf_counter()
        assert response.status_code == 200
        return (middle - start) * 1000, (end - middle) * 1000, size

    for name, file in files.items():
        for accel in (False, True):
            once(file, accel)
            checks, sends = [], []
            for _ in range(requests):
                check, send, size = once(file, accel)
                checks.append(check)
                sends.append(send)
            mode = "X-Accel-Redirect (nginx sends)" if accel else f"Django streams {size:,} bytes"
            print(f"{name}, {mode}")
            print("  " + figures("access check + signed redirect", checks))
            print("  " + figures("signed address served", sends))


def bench_search(books: int, rounds: int, without: bool) -> None:
    import random

    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    import libraries.catalog.search as search_module
    import libraries.catalog.views as views_module
    from bench.books import add_open_books, fixture_texts
    from bench.catalog_search import QUERIES
    from libraries.catalog.views import catalog_search
    from libraries.models import DigitalFile, DigitalText, DigitalWordPlace, Library, Record

    added = []
    if books:
        library = Library.objects.order_by("pk").first()
        ids = list(Record.objects.order_by("?").values_list("pk", flat=True)[:books])
        added = add_open_books(ids, library, random.Random(13), fixture_texts())
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE libraries_digitalfile, libraries_digitaltext, libraries_digitalwordplace"
            )
    if without:
        search_module._inside_books = lambda qs, words, exclude: []
        views_module.digital_summary = lambda record_ids: {}
    queries = [*QUERIES, {"q": "harpooneer"}, {"q": "ishmael queequeg"}, {"q": "fairy stories"}]
    factory = RequestFactory()
    print(
        f"database: {database_label()}; records {Record.objects.count():,}, texts of files "
        f"{DigitalText.objects.count()}; digital steps {'off' if without else 'on'}"
    )
    try:
        for params in queries:
            request = factory.get("/catalog/", params)
            request.user = AnonymousUser()
            catalog_search(request)
        timings, per_query = [], {}
        for _ in range(rounds):
            for params in queries:
                request = factory.get("/catalog/", params)
                request.user = AnonymousUser()
                start = time.perf_counter()
                response = catalog_search(request)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200
                timings.append(elapsed)
                per_query.setdefault(str(params), []).append(elapsed)
        print(figures("catalog search", timings))
        for query in ("{'q': 'harpooneer'}", "{'q': 'ishmael queequeg'}", "{'q': 'việt nam'}"):
            print(f"  {query}: median {statistics.median(per_query[query]):.1f} ms")
    finally:
        if added:
            DigitalWordPlace.objects.filter(text_id__in=added).delete()
            DigitalText.objects.filter(file_id__in=added).delete()
            DigitalFile.objects.filter(pk__in=added).delete()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("import")
    one.add_argument("--rounds", type=int, default=5)
    two = sub.add_parser("serve")
    two.add_argument("--requests", type=int, default=200)
    three = sub.add_parser("search")
    three.add_argument("--books", type=int, default=200)
    three.add_argument("--rounds", type=int, default=3)
    three.add_argument("--without-digital", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PRIVATE_MEDIA_ROOT", tempfile.mkdtemp(prefix="kb-bench-private-"))
    if args.what == "search":
        setup_django(
            own_database(LOCAL_POSTGRES + "kb_bench"), settings="training_site.settings.dev"
        )
        bench_search(args.books, args.rounds, args.without_digital)
        return
    setup_django(
        own_database(LOCAL_POSTGRES + "kb_bench_digital"), settings="training_site.settings.dev"
    )
    if args.what == "import":
        bench_import(args.rounds)
    else:
        bench_serve(args.requests)


if __name__ == "__main__":
    main()
