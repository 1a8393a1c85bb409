"""Circulation benchmark on PostgreSQL: check-out + check-in round trips at network scale.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_circ] \
        .venv/bin/python bench/circulation.py [--quick] [--items N] [--readers N] [--actions N]

Creates the database if needed, migrates it, fills it with generate_series (fast and
repeatable: a second run reuses the data), then times the services exactly as the desk
calls them, one desk after another (single thread): server time per action, p50/p95/max,
round trips per second, and the number of SQL queries per action, for ordinary readers
and for one reader who already has 50 loans. Prints figures; asserts nothing.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import LOCAL_POSTGRES, own_database, p95, setup_django  # noqa: E402

DEFAULT_URL = LOCAL_POSTGRES + "kb_bench_circ"

LIBRARIES = 200
PREFIX = "BX"


def populate(items: int, readers: int, out) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from libraries.models import CirculationRule, Item, Library, Patron

    if Item.objects.filter(barcode__startswith=PREFIX).count() >= items and (
        Patron.objects.filter(card_number__startswith=PREFIX).count() >= readers
    ):
        out.write("data already present\n")
        return
    start = time.perf_counter()
    with transaction.atomic():
        province = Library.objects.get_or_create(
            code="BXP", defaults={"name": "Bench province", "kind": "provincial"}
        )[0]
        districts = [
            Library.objects.get_or_create(
                code=f"BXD{d:02d}",
                defaults={"name": f"District {d}", "kind": "district", "parent": province},
            )[0]
            for d in range(10)
        ]
        for n in range(LIBRARIES):
            Library.objects.get_or_create(
                code=f"BXS{n:03d}",
                defaults={"name": f"Trường {n}", "kind": "school", "parent": districts[n % 10]},
            )
        get_user_model().objects.filter(username="bench").delete()
        get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-pass-2026")
        CirculationRule.objects.all().delete()
        CirculationRule.objects.create(loan_days=14, max_loans=5, renewals=2)
        CirculationRule.objects.create(patron_category="student", max_loans=3)
        CirculationRule.objects.create(patron_category="staff", max_loans=200)
        first = Library.objects.get(code="BXS000")
        CirculationRule.objects.create(library=first, patron_category="student", max_loans=4)
    school_ids = list(
        Library.objects.filter(code__startswith="BXS").order_by("code").values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM libraries_loan")
        cursor.execute("DELETE FROM libraries_hold")
        cursor.execute("DELETE FROM libraries_transfer")
        cursor.execute("DELETE FROM libraries_item WHERE barcode LIKE 'BX%%'")
        cursor.execute("DELETE FROM libraries_patron WHERE card_number LIKE 'BX%%'")
        cursor.execute("DELETE FROM libraries_record WHERE title LIKE 'Bench %%'")
        cursor.execute("CREATE TEMP TABLE bench_libs (n int PRIMARY KEY, id bigint)")
        cursor.executemany("INSERT INTO bench_libs VALUES (%s, %s)", list(enumerate(school_ids)))
        records = max(items // 4, 1)
        cursor.execute(
            """
            INSERT INTO libraries_record (title, subtitle, authors, publisher, place, isbn,
                language, subjects, call_number, summary, control_number,
                control_number_source, fingerprint, search_exact, search_folded,
                title_folded, authors_folded, subjects_folded, created_at, updated_at)
            SELECT 'Bench ' || g, '', 'Tác giả ' || (g %% 5000), '', '', '', 'vie', '',
                '895.9', '', '', '', '', ' bench ' || g || ' ', ' bench ' || g || ' ',
                ' bench ' || g || ' ', ' tac gia ' || (g %% 5000) || ' ', '', now(), now()
            FROM generate_series(1, %s) g
            """,
            [records],
        )
        cursor.execute("SELECT min(id) FROM libraries_record WHERE title LIKE 'Bench %%'")
        first_record = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO libraries_item (record_id, library_id, location_id, barcode,
                call_number, item_type, status, notes, created_at, updated_at)
            SELECT %s + (g %% %s), l.id, l.id, 'BX' || lpad(g::text, 9, '0'),
                '895.9', 'book', 'available', '', now(), now()
            FROM generate_series(0, %s - 1) g JOIN bench_libs l ON l.n = g %% %s
            """,
            [first_record, records, items, LIBRARIES],
        )
        cursor.execute(
            """
            INSERT INTO libraries_patron (card_number, home_library_id, full_name, category,
                school_class, address, phone, email, guardian_name, guardian_contact,
                guardian_consent, expires_on, status, blocked_reason, keep_loan_history,
                created_at)
            SELECT 'BX-' || lpad(g::text, 7, '0'), l.id, 'Bạn đọc ' || g,
                CASE WHEN g = 0 THEN 'staff' WHEN g %% 3 = 0 THEN 'adult' ELSE 'student' END,
                '', '', '', '', '', '', false, current_date + 365, 'active', '', true, now()
            FROM generate_series(0, %s - 1) g JOIN bench_libs l ON l.n = g %% %s
            """,
            [readers, LIBRARIES],
        )
    out.write(
        f"generated {items} items, {records} records, {readers} readers "
        f"in {time.perf_counter() - start:.1f} s\n"
    )


def populate_loans(items: int, readers: int, history: int, out) -> None:
    """Open loans (26,000), one reader with 50 loans, and `history` returned loans.

    The last 200 items of each library are reserved: the timed actions never pick them.
    """
    from django.db import connection

    start = time.perf_counter()
    per_library = items // LIBRARIES
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM libraries_loan WHERE returned_at IS NOT NULL")
        if cursor.fetchone()[0] >= history:
            out.write("loans already present\n")
            return
        cursor.execute("TRUNCATE libraries_loan")
        cursor.execute("UPDATE libraries_item SET status = 'available' WHERE status <> 'available'")
        # Reader 0 (library 0) has 50 loans.
        cursor.execute(
            """
            WITH lent AS (
                UPDATE libraries_item SET status = 'on_loan'
                WHERE barcode IN (
                    SELECT 'BX' || lpad((g * %s)::text, 9, '0')
                    FROM generate_series(%s, %s + 49) g)
                RETURNING id, library_id)
            INSERT INTO libraries_loan (item_id, patron_id, patron_category, library_id,
                checked_out_at, due_at, renewals_count)
            SELECT lent.id, p.id, 'staff', lent.library_id, now(), now() + interval '14 days', 0
            FROM lent, libraries_patron p WHERE p.card_number = 'BX-0000000'
            """,
            [LIBRARIES, per_library - 60, per_library - 60],
        )
        # 130 open loans per library, to readers in the lower half of that library's readers.
        cursor.execute(
            """
            WITH lent AS (
                UPDATE libraries_item SET status = 'on_loan'
                WHERE barcode IN (
                    SELECT 'BX' || lpad((k * %s + n)::text, 9, '0')
                    FROM generate_series(%s, %s) k, generate_series(0, %s - 1) n)
                RETURNING id, library_id, substr(barcode, 3)::bigint AS g)
            INSERT INTO libraries_loan (item_id, patron_id, patron_category, library_id,
                checked_out_at, due_at, renewals_count)
            SELECT lent.id, p.id, p.category, lent.library_id, now() - interval '20 days',
                now() + (random() * 20 - 8) * interval '1 day', 0
            FROM lent JOIN libraries_patron p ON p.card_number =
                'BX-' || lpad((((lent.g / %s) %% (%s / %s / 2 - 1) + 1) * %s + lent.g %% %s)::text, 7, '0')
            """,
            [
                LIBRARIES,
                per_library - 200,
                per_library - 71,
                LIBRARIES,
                LIBRARIES,
                readers,
                LIBRARIES,
                LIBRARIES,
                LIBRARIES,
            ],
        )
        # Returned loans: the history a busy network builds up over a year or two.
        cursor.execute(
            """
            INSERT INTO libraries_loan (item_id, patron_id, patron_category, library_id,
                checked_out_at, due_at, returned_at, returned_library_id, renewals_count)
            SELECT i.id, p.id, p.category, i.library_id, t, t + interval '14 days',
                t + interval '10 days', i.library_id, 0
            FROM (SELECT g, now() - (g %% 700) * interval '1 day' AS t,
                         (g * 7919) %% %s AS item_g, (g * 104729) %% %s AS reader_g
                  FROM generate_series(1, %s::bigint) g) s
            JOIN libraries_item i ON i.barcode = 'BX' || lpad(s.item_g::text, 9, '0')
            JOIN libraries_patron p ON p.card_number = 'BX-' || lpad(s.reader_g::text, 7, '0')
            """,
            [items, readers, history],
        )
        cursor.execute(
            "SELECT count(*) FILTER (WHERE returned_at IS NULL), count(*) FROM libraries_loan"
        )
        open_loans, all_loans = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    out.write(
        f"generated {all_loans} loans ({open_loans} open) in {time.perf_counter() - start:.1f} s\n"
    )


def run(items: int, readers: int, actions: int, out) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from libraries.circulation.services import check_in, check_out
    from libraries.models import Library

    rng = random.Random(2026)
    staff = get_user_model().objects.get(username="bench")
    libraries = {n: Library.objects.get(code=f"BXS{n:03d}") for n in range(LIBRARIES)}
    per_library_items = items // LIBRARIES
    per_library_readers = readers // LIBRARIES
    timings = {"ordinary": {"out": [], "in": []}, "heavy": {"out": [], "in": []}}
    queries = {"ordinary": {"out": set(), "in": set()}, "heavy": {"out": set(), "in": set()}}
    # Where the time goes: Python CPU time in this process, and SQL time seen by the client.
    cpu = {"out": [], "in": []}
    sql = {"out": [], "in": []}

    def measure(kind, action, func, **kwargs):
        connection.queries_log.clear()  # the log keeps 9000 entries; counts need room
        with CaptureQueriesContext(connection) as ctx:
            c0, t0 = time.process_time(), time.perf_counter()
            func(**kwargs)
            t1, c1 = time.perf_counter(), time.process_time()
        timings[kind][action].append((t1 - t0) * 1000)
        queries[kind][action].add(len(ctx.captured_queries))
        cpu[action].append((c1 - c0) * 1000)
        sql[action].append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)

    def one(kind: str):
        n = 0 if kind == "heavy" else rng.randrange(LIBRARIES)
        # Items of library n are g with g % LIBRARIES == n; the last 200 hold the open loans.
        g = rng.randrange(0, per_library_items - 200) * LIBRARIES + n
        barcode = f"BX{g:09d}"
        if kind == "heavy":
            card = "BX-0000000"
        else:
            # The upper half of each library's readers: clear of the pre-made open loans.
            r = rng.randrange(per_library_readers // 2, per_library_readers) * LIBRARIES + n
            card = f"BX-{r:07d}"
        library = libraries[n]
        measure(
            kind, "out", check_out, item_barcode=barcode, card_number=card, by=staff, at=library
        )
        measure(kind, "in", check_in, item_barcode=barcode, by=staff, at=library)

    for _ in range(20):  # warm up connections and caches
        one("ordinary")
    for kind in timings:
        for action in timings[kind]:
            timings[kind][action].clear()
            cpu[action].clear()
            sql[action].clear()
    start = time.perf_counter()
    for i in range(actions):
        one("heavy" if i % 10 == 0 else "ordinary")
    elapsed = time.perf_counter() - start
    out.write(
        f"\n{actions} round trips (check-out + check-in) in {elapsed:.1f} s: "
        f"{actions / elapsed:.1f} round trips/s on one thread\n\n"
    )
    out.write("reader         action     n   p50 ms  p95 ms  max ms  queries/action\n")
    for kind in timings:
        for action, values in timings[kind].items():
            name = "check-out" if action == "out" else "check-in"
            out.write(
                f"{kind:<14} {name:<9} {len(values):>5} {statistics.median(values):>7.2f} "
                f"{p95(values):>7.2f} {max(values):>7.2f}  "
                f"{sorted(queries[kind][action])}\n"
            )
    for action, name in (("out", "check-out"), ("in", "check-in")):
        out.write(
            f"{name}: median Python CPU {statistics.median(cpu[action]):.2f} ms, "
            f"median SQL (client side) {statistics.median(sql[action]):.2f} ms\n"
        )


def run_desk(items: int, readers: int, actions: int, out) -> None:
    """The same round trips through the desk's JSON endpoint: middleware, session, panel."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from libraries.models import Library

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(2027)
    client = Client(HTTP_ACCEPT="application/json")
    client.force_login(get_user_model().objects.get(username="bench"))
    ids = {n: Library.objects.get(code=f"BXS{n:03d}").pk for n in range(LIBRARIES)}
    per_library_items = items // LIBRARIES
    per_library_readers = readers // LIBRARIES
    timings = {"heavy": [], "ordinary": []}
    queries = {"heavy": set(), "ordinary": set()}

    def post(kind, data):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            answer = client.post("/desk/scan/", data).json()
            elapsed = (time.perf_counter() - t0) * 1000
        if kind:
            timings[kind].append(elapsed)
            queries[kind].add(len(ctx.captured_queries))
        return answer

    for i in range(actions + 10):
        kind = "heavy" if i % 10 == 0 else "ordinary"
        n = 0 if kind == "heavy" else rng.randrange(LIBRARIES)
        r = rng.randrange(per_library_readers // 2, per_library_readers) * LIBRARIES + n
        card = "BX-0000000" if kind == "heavy" else f"BX-{r:07d}"
        barcode = f"BX{rng.randrange(0, per_library_items - 200) * LIBRARIES + n:09d}"
        timed = kind if i >= 10 else None
        post(None, {"library": ids[n], "mode": "checkout", "code": card})
        answer = post(timed, {"library": ids[n], "mode": "checkout", "code": barcode})
        assert answer["ok"], answer
        post(timed, {"library": ids[n], "mode": "checkin", "code": barcode})
    out.write("\ndesk endpoint (/desk/scan/, JSON, panel rendered): scan item, check in\n")
    out.write("reader           n   p50 ms  p95 ms  max ms  queries/request\n")
    for kind, values in timings.items():
        out.write(
            f"{kind:<14} {len(values):>4} {statistics.median(values):>7.2f} "
            f"{p95(values):>7.2f} {max(values):>7.2f}  {sorted(queries[kind])}\n"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100,000 items, 5,000 readers, own database"
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--readers", type=int, default=150_000)
    parser.add_argument("--actions", type=int, default=2000)
    parser.add_argument("--history", type=int, default=300_000, help="returned loans")
    args = parser.parse_args()
    if args.quick:
        args.items, args.readers, args.actions, args.history = 100_000, 5_000, 300, 20_000
    url = own_database(DEFAULT_URL + ("_quick" if args.quick else ""), postgres_only=True)
    setup_django(url)
    populate(args.items, args.readers, sys.stdout)
    populate_loans(args.items, args.readers, args.history, sys.stdout)
    run(args.items, args.readers, args.actions, sys.stdout)
    run_desk(args.items, args.readers, max(args.actions // 4, 50), sys.stdout)


if __name__ == "__main__":
    main()
