"""Province-scale data for the Locust load test, in a database of its own (kb_load).

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_load] \
        .venv/bin/python bench/load/data.py [--out /tmp/kb_load/scenario.json]

Built from the other benchmarks' generators, in this order (a second run reuses what is
there):

1. bench/catalog_data.py: 300,000 records and 1,000,000 items over 200 libraries (COPY);
2. bench/circulation.py: 200 more school libraries with 100,000 items, 40,000 reader cards,
   26,000 open loans and 100,000 returned ones;
3. bench/dashboards.py: 200 schools, 100,000 learners and staff in classes, 20 courses,
   about 700,000 enrolments, lesson progress, certificates and xAPI results;
4. the demo (load_demo, with the H5P packages of ../shared/fixtures/h5p): the H5P lesson
   the learners post xAPI statements for;
5. the load test's own accounts: one user per reader card (br<N>), one librarian per desk
   library (desk<NNN>), every learner enrolled in the demo H5P course, and ONE password
   hash (PASSWORD, computed once) for all of them: 140,000 users in all.

Then writes the scenario file the locustfile reads (accounts, barcodes, lesson URLs, search
words): under /tmp, not in the repository. Refuses any database whose name lacks "load".
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from dj_database_url import parse

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

import bench.harness as harness  # noqa: E402

LOAD_URL = harness.LOCAL_POSTGRES + "kb_load"
PASSWORD = "load-test-2026"  # every account of the scenario (and only of kb_load)
# Outside the repository: the scenario file is large, the H5P files are the load test's.
WORK = Path(os.environ.get("LOAD_WORK_DIR") or Path(tempfile.gettempdir()) / "kb_load")
SCENARIO = WORK / "scenario.json"

CATALOG_RECORDS, CATALOG_ITEMS, CATALOG_LIBRARIES = 300_000, 1_000_000, 200
DESK_ITEMS, CARDS, LOAN_HISTORY = 100_000, 40_000, 100_000
SCHOOLS, LEARNERS = 200, 100_000


def load_database_url() -> str:
    """DATABASE_URL if it names a load-test database (PostgreSQL), else kb_load."""
    url = os.environ.get("DATABASE_URL") or LOAD_URL
    config = parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("The load test's data needs PostgreSQL (DATABASE_URL=postgres://...).")
    if "load" not in (config["NAME"] or ""):
        sys.exit(
            f"Refusing to fill database {config['NAME']!r}: this script deletes catalog rows. "
            f"Name a database of its own (with 'load' in the name) or leave DATABASE_URL unset "
            f"for {LOAD_URL}."
        )
    return url


URL = load_database_url()
os.environ.setdefault("MEDIA_ROOT", str(WORK / "media"))
os.environ.setdefault("PRIVATE_MEDIA_ROOT", str(WORK / "private"))
# bench/catalog_data.py sets Django up when imported, on the database harness.own_database
# accepts (a name with "bench"). kb_load is checked above instead: hand it over.
harness.own_database = lambda default_url, postgres_only=False: URL

from bench import catalog_data, circulation, dashboards  # noqa: E402


def say(message: str, started: float | None = None) -> None:
    suffix = f" ({time.perf_counter() - started:.1f} s)" if started is not None else ""
    print(message + suffix, flush=True)


def build_catalog(records: int, items: int, libraries: int) -> None:
    from django.db import connection

    from libraries.models import Record

    if Record.objects.filter(control_number_source="BENCH").count() >= records:
        say("catalog: already present")
        return
    started = time.perf_counter()
    rng = random.Random(7)
    chosen = catalog_data.make_libraries(libraries)
    ids = catalog_data.copy_records(records, rng)
    catalog_data.copy_items(items, ids, chosen, rng)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE libraries_record")
        cursor.execute("VACUUM ANALYZE libraries_item")
    say(f"catalog: {records:,} records, {items:,} items", started)


def build_accounts(cards: int, password_hash: str) -> None:
    """Reader users for the cards, desk librarians, learners' password and H5P enrolments."""
    from django.db import connection, transaction

    from courses.models import LessonPage
    from courses.training.demo import H5P_LESSON_SLUG

    started = time.perf_counter()
    lesson = LessonPage.objects.get(slug=H5P_LESSON_SLUG)
    course = lesson.get_parent().specific
    lessons_total = LessonPage.objects.child_of(course).live().count()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO training_site_user (password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name,
                preferred_language)
            SELECT %s, false, 'br' || g, '', '', '', false, true, now(), 'Bạn đọc ' || g, 'vi'
            FROM generate_series(0, %s - 1) g
            ON CONFLICT (username) DO NOTHING
            """,
            [password_hash, cards],
        )
        cursor.execute(
            """
            UPDATE libraries_patron p SET user_id = u.id
            FROM training_site_user u
            WHERE u.username = 'br' || CASE WHEN p.card_number ~ '^BX-[0-9]+$'
                                            THEN substr(p.card_number, 4)::int END
              AND p.user_id IS NULL
            """
        )
        cursor.execute(
            """
            INSERT INTO training_site_user (password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name,
                preferred_language)
            SELECT %s, false, 'desk' || substr(l.code, 4), '', '', '', false, true, now(),
                'Thủ thư ' || l.code, 'vi'
            FROM libraries_library l WHERE l.code LIKE 'BXS%%'
            ON CONFLICT (username) DO NOTHING
            """,
            [password_hash],
        )
        cursor.execute(
            """
            INSERT INTO libraries_membership (user_id, library_id, role, created_at)
            SELECT u.id, l.id, 'librarian', now()
            FROM libraries_library l
            JOIN training_site_user u ON u.username = 'desk' || substr(l.code, 4)
            WHERE l.code LIKE 'BXS%%'
            ON CONFLICT DO NOTHING
            """
        )
        # Learners, staff and the network administrator of bench/dashboards.py.
        cursor.execute(
            "UPDATE training_site_user SET password = %s WHERE username LIKE 'bd%%'",
            [password_hash],
        )
        cursor.execute(
            """
            INSERT INTO courses_enrollment (user_id, course_id, library_id, enrolled_at,
                last_activity_at, lessons_completed, lessons_total)
            SELECT m.user_id, %s, m.library_id, now(), now(), 0, %s
            FROM libraries_membership m JOIN training_site_user u ON u.id = m.user_id
            WHERE m.role = 'student' AND u.username LIKE 'bd%%' AND NOT EXISTS (
                SELECT 1 FROM courses_enrollment e
                WHERE e.user_id = m.user_id AND e.course_id = %s)
            """,
            [course.pk, lessons_total, course.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say("accounts: reader users, desk librarians, learners' H5P enrolments", started)


def write_scenario(path: Path, cards: int, desk_items: int) -> dict:
    """What the locustfile needs: accounts, barcodes (as formulas), lessons, search words."""
    from courses.models import ClassGroup, CoursePage, LessonPage
    from courses.training.demo import H5P_LESSON_SLUG
    from libraries.models import Library, Record

    rng = random.Random(14)
    h5p_lesson = LessonPage.objects.get(slug=H5P_LESSON_SLUG)
    h5p_blocks = [spec.block_id for spec in h5p_lesson.activity_specs() if spec.kind == "h5p"]
    courses = []
    for c in range(dashboards.COURSES):
        course = CoursePage.objects.get(slug=f"bench-course-{c}")
        courses.append(
            [lesson.get_url() for lesson in LessonPage.objects.child_of(course).order_by("path")]
        )
    staff = SCHOOLS * dashboards.STAFF_PER_SCHOOL
    learners = [
        [
            f"bd{n}",
            [(n // SCHOOLS % dashboards.CLASSES_PER_SCHOOL + 1 + k * 3) % 20 for k in range(7)],
        ]
        for n in rng.sample(range(staff, LEARNERS), 3000)
    ]
    libraries = {
        lib.code: lib.pk for lib in Library.objects.filter(code__startswith="BXS").only("code")
    }
    per_library_readers = cards // circulation.LIBRARIES
    readers = []  # the lower half of each library's cards holds the open loans
    for _ in range(2000):
        n = rng.randrange(circulation.LIBRARIES)
        r = rng.randrange(1, per_library_readers // 2) * circulation.LIBRARIES + n
        readers.append([f"br{r}", libraries[f"BXS{n:03d}"]])
    desks = [[f"desk{n:03d}", libraries[f"BXS{n:03d}"], n] for n in range(circulation.LIBRARIES)]
    teachers = []
    for group in (
        ClassGroup.objects.filter(library__code__startswith="BDS")
        .select_related("library")
        .order_by("pk")[:2000]
    ):
        teacher = group.teachers.order_by("pk").first()
        if teacher is not None:
            teachers.append([teacher.username, group.pk, group.library.code])
    rng.shuffle(teachers)
    words = sorted(
        {
            word
            for title in Record.objects.filter(control_number_source="BENCH")
            .order_by("pk")
            .values_list("title", flat=True)[:3000]
            for word in title.split()
            if len(word) > 3
        }
    )
    record_ids = list(
        Record.objects.filter(control_number_source="BENCH")
        .order_by("?")
        .values_list("pk", flat=True)[:3000]
    )
    scenario = {
        "password": PASSWORD,
        "search_words": words,
        "record_ids": record_ids,
        "learners": learners,
        "course_lessons": courses,
        "h5p": {"url": h5p_lesson.get_url(), "lesson_id": h5p_lesson.pk, "blocks": h5p_blocks},
        "readers": readers,
        "desks": desks,
        "desk_items_per_library": desk_items // circulation.LIBRARIES,
        "desk_cards_per_library": per_library_readers,
        "desk_libraries": circulation.LIBRARIES,
        "network_admin": "bd-admin",
        "teachers": teachers[:500],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scenario, ensure_ascii=False))
    say(f"scenario: {path} ({path.stat().st_size // 1024} KiB)")
    return scenario


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SCENARIO)
    args = parser.parse_args()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from courses.models import LibraryTrainingFigures
    from courses.training.figures import rebuild

    say(f"database: {harness.database_label()}")
    started = time.perf_counter()
    build_catalog(CATALOG_RECORDS, CATALOG_ITEMS, CATALOG_LIBRARIES)
    t = time.perf_counter()
    circulation.populate(DESK_ITEMS, CARDS, sys.stdout)
    circulation.populate_loans(DESK_ITEMS, CARDS, LOAN_HISTORY, sys.stdout)
    say("circulation", t)
    t = time.perf_counter()
    dashboards.populate(SCHOOLS, LEARNERS, sys.stdout)
    if not LibraryTrainingFigures.objects.exists():
        rebuild()
    say("training", t)
    t = time.perf_counter()
    h5p = ROOT.parent / "shared" / "fixtures" / "h5p"
    call_command("load_demo", h5p_dir=h5p if h5p.is_dir() else None, verbosity=0)
    say("demo and H5P lesson", t)
    build_accounts(CARDS, make_password(PASSWORD))
    write_scenario(args.out, CARDS, DESK_ITEMS)
    say("total", started)


if __name__ == "__main__":
    main()
