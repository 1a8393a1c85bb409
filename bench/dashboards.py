"""Dashboards benchmark on PostgreSQL: network dashboard, library dashboard, class report.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_dash] \
        .venv/bin/python bench/dashboards.py [--quick] [--libraries N] [--users N] [--runs N]

Full scale (the default): 200 school libraries under 10 districts and a province, 140,000
users (600 staff, the rest students in 20 classes per school), 20 courses of 5 lessons, about
1,000,000 enrolments and 5,000,000 lesson progress rows, certificates for completed
courses and 500,000 xAPI results. --quick: 20 schools, 5,000 users (own database
kb_bench_dash_quick), under a minute.

Rows are written with INSERT ... SELECT generate_series (a second run reuses the data);
the network dashboard's running totals are then built once with rebuild_training_figures.
Each page is then requested through the Django test client (server time: queries and
template) `--runs` times; prints p50/p95/max and the number of SQL queries. Asserts nothing.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import LOCAL_POSTGRES, database_label, own_database, p95, setup_django  # noqa: E402

FULL_URL = LOCAL_POSTGRES + "kb_bench_dash"
QUICK_URL = LOCAL_POSTGRES + "kb_bench_dash_quick"
COURSES = 20
LESSONS = 5
COURSES_PER_LEARNER = 7
CLASSES_PER_SCHOOL = 20
STAFF_PER_SCHOOL = 3


def step(out, label, started):
    out.write(f"  {label}: {time.perf_counter() - started:.1f} s\n")
    out.flush()


def build_pages():
    import json
    import uuid

    from courses.models import CourseIndexPage, CoursePage, LessonPage
    from training_site.models import HomePage

    index = CourseIndexPage.objects.filter(slug="bench-courses").first()
    if index is None:
        index = HomePage.objects.first().add_child(
            instance=CourseIndexPage(title="Bench courses", slug="bench-courses")
        )
    courses = []
    for c in range(COURSES):
        slug = f"bench-course-{c}"
        course = CoursePage.objects.child_of(index).filter(slug=slug).first()
        if course is None:
            course = index.add_child(
                instance=CoursePage(
                    title=f"Khoá {c:02d}",
                    slug=slug,
                    audience="librarians" if c % 5 == 0 else "students",
                )
            )
            for j in range(LESSONS):
                quiz = {
                    "type": "quiz",
                    "id": str(uuid.uuid4()),
                    "value": {
                        "title": "Q",
                        "required": True,
                        "pass_mark": 50,
                        "questions": [
                            {
                                "question": "?",
                                "kind": "single",
                                "explanation": "",
                                "choices": [
                                    {"text": "a", "correct": True},
                                    {"text": "b", "correct": False},
                                ],
                            }
                        ],
                    },
                }
                course.add_child(
                    instance=LessonPage(
                        title=f"Bài {c:02d}.{j}", slug=f"l{j}", body=json.dumps([quiz])
                    )
                )
        courses.append(course)
    return courses


def populate(schools: int, users: int, out) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from courses.models import LessonPage
    from libraries.models import Library

    User = get_user_model()
    if User.objects.filter(username="bd0").exists():
        out.write("data already present\n")
        return
    started = time.perf_counter()
    courses = build_pages()
    step(out, "20 courses x 5 lessons", started)
    with transaction.atomic():
        province = Library.objects.create(code="BDP", name="Bench province", kind="provincial")
        districts = [
            Library.objects.create(
                code=f"BDD{d:02d}", name=f"Huyện {d}", kind="district", parent=province
            )
            for d in range(10)
        ]
        school_ids = [
            Library.objects.create(
                code=f"BDS{n:03d}", name=f"Trường {n:03d}", kind="school", parent=districts[n % 10]
            ).pk
            for n in range(schools)
        ]
        lesson_rows = []
        for c, course in enumerate(courses):
            for j, lesson in enumerate(LessonPage.objects.child_of(course).order_by("path")):
                lesson_rows.append((c, j, lesson.pk, course.pk))
        staff = schools * STAFF_PER_SCHOOL
        sql = f"""  -- only integers computed here
        CREATE TEMP TABLE b_school (idx int PRIMARY KEY, id int);
        INSERT INTO b_school VALUES {",".join(f"({i},{pk})" for i, pk in enumerate(school_ids))};
        CREATE TEMP TABLE b_lesson (c int, j int, id int, course_id int);
        INSERT INTO b_lesson VALUES {",".join(f"({c},{j},{pk},{cid})" for c, j, pk, cid in lesson_rows)};
        CREATE TEMP TABLE b_course AS SELECT DISTINCT c, course_id FROM b_lesson;

        INSERT INTO training_site_user (password, is_superuser, username, first_name, last_name,
            email, is_staff, is_active, date_joined, display_name, preferred_language)
        SELECT '!', false, 'bd' || n, '', '', '', false, true, now(), 'Học sinh ' || n, 'vi'
        FROM generate_series(0, {users - 1}) n;
        CREATE TEMP TABLE b_user AS
        SELECT id, (substr(username, 3))::int AS n FROM training_site_user WHERE username LIKE 'bd%';
        ALTER TABLE b_user ADD COLUMN school int, ADD COLUMN klass int;
        UPDATE b_user SET school = n % {schools}, klass = (n / {schools}) % {CLASSES_PER_SCHOOL};

        INSERT INTO libraries_membership (user_id, library_id, role, created_at)
        SELECT u.id, s.id, CASE WHEN u.n < {staff} THEN 'librarian' ELSE 'student' END, now()
        FROM b_user u JOIN b_school s ON s.idx = u.school;

        INSERT INTO courses_classgroup (library_id, name, school_year, created_at)
        SELECT s.id, 'Lớp ' || k, '2026-2027', now()
        FROM b_school s, generate_series(0, {CLASSES_PER_SCHOOL - 1}) k;
        CREATE TEMP TABLE b_class AS
        SELECT g.id, s.idx AS school, (substr(g.name, 5))::int AS k
        FROM courses_classgroup g JOIN b_school s ON s.id = g.library_id;

        INSERT INTO courses_classmembership (class_group_id, student_id, library_id, joined_at)
        SELECT c.id, u.id, s.id, now()
        FROM b_user u JOIN b_class c ON c.school = u.school AND c.k = u.klass
        JOIN b_school s ON s.idx = u.school WHERE u.n >= {staff};

        INSERT INTO courses_classgroup_teachers (classgroup_id, user_id)
        SELECT c.id, u.id FROM b_class c JOIN b_user u ON u.school = c.school AND u.n < {schools};

        INSERT INTO courses_assignment (class_group_id, course_id, due_date, created_at)
        SELECT c.id, bc.course_id, DATE '2026-11-01' + (a * 30), now()
        FROM b_class c, generate_series(0, 1) a
        JOIN b_course bc ON true WHERE bc.c = (c.k + 1 + a * 3) % {COURSES};

        -- learners: students take 7 courses around their class's; staff the librarian courses
        INSERT INTO courses_enrollment (user_id, course_id, library_id, enrolled_at,
            last_activity_at, lessons_completed, lessons_total, completed_at)
        SELECT u.id, bc.course_id, s.id, now() - interval '300 days',
               now() - ((u.n * 7 + k * 13) % 300) * interval '1 day',
               (u.n * 31 + k * 17) % {LESSONS + 1}, {LESSONS},
               CASE WHEN (u.n * 31 + k * 17) % {LESSONS + 1} = {LESSONS}
                    THEN now() - ((u.n * 7 + k * 13) % 300) * interval '1 day' END
        FROM b_user u JOIN b_school s ON s.idx = u.school
        CROSS JOIN generate_series(0, {COURSES_PER_LEARNER - 1}) k
        JOIN b_course bc ON bc.c = CASE WHEN u.n < {staff} THEN (k % 4) * 5
                                        ELSE (u.klass + 1 + k * 3) % {COURSES} END
        WHERE u.n >= {staff} OR k < 4;

        INSERT INTO courses_lessonprogress (user_id, lesson_id, course_id, viewed_at, attempted,
            attempts, best_score, passed, completed_at, updated_at)
        SELECT e.user_id, l.id, e.course_id, e.enrolled_at, true, 1 + (e.id + l.j) % 3,
               ((e.id * 7 + l.j * 3) % 11) / 10.0, l.j < e.lessons_completed,
               CASE WHEN l.j < e.lessons_completed THEN e.last_activity_at END, e.last_activity_at
        FROM courses_enrollment e JOIN b_lesson l ON l.course_id = e.course_id;

        INSERT INTO courses_certificate (user_id, course_id, library_id, code, learner_name,
            course_title, library_name, issued_at, revoked_reason, revoked_note)
        SELECT e.user_id, e.course_id, e.library_id, 'BD-' || e.id, 'x', 'x', 'x', e.completed_at,
            '', ''
        FROM courses_enrollment e WHERE e.completed_at IS NOT NULL;

        INSERT INTO courses_xapistatement (statement_id, user_id, lesson_id, block_id, verb,
            object_id, sub_content_id, score_scaled, success, completion, timestamp, stored_at, raw)
        SELECT gen_random_uuid(), p.user_id, p.lesson_id, 'q', 'http://adlnet.gov/expapi/verbs/answered',
               'http://bench/courses/activity/' || p.lesson_id || '/q', '',
               p.best_score, p.best_score >= 0.5, true, p.updated_at, p.updated_at,
               jsonb_build_object('result', jsonb_build_object('duration', 'PT' || (p.id % 300) || 'S'))
        FROM courses_lessonprogress p WHERE p.id % 10 = 0;
        """  # noqa: S608
        with connection.cursor() as cursor:
            for statement in [s.strip() for s in sql.split(";\n") if s.strip()]:
                t = time.perf_counter()
                cursor.execute(statement)
                label = " ".join(statement.split()[:3])
                if cursor.rowcount and cursor.rowcount > 1000:
                    out.write(
                        f"  {label}: {cursor.rowcount:,} rows, {time.perf_counter() - t:.1f} s\n"
                    )
                    out.flush()
        admin = User.objects.create_user("bd-admin", password=None)
        from libraries.models import Membership

        Membership.objects.create(user=admin, library=province, role="network_admin")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    step(out, "populated", started)


def time_page(client, label, url, runs, out):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    out.write(
        f"{label:<34} p50 {statistics.median(times):7.1f} ms   p95 {p95(times):7.1f} ms   "
        f"max {max(times):7.1f} ms   {len(queries)} queries\n"
    )
    return p95(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--libraries", type=int, help="school libraries (default 200)")
    parser.add_argument("--users", type=int, help="users (default 140000)")
    parser.add_argument("--runs", type=int, help="requests per page (default 30)")
    args = parser.parse_args()
    schools = args.libraries or (20 if args.quick else 200)
    users = args.users or (5000 if args.quick else 140_000)
    runs = args.runs or (10 if args.quick else 30)
    url = own_database(QUICK_URL if args.quick else FULL_URL, postgres_only=True)
    setup_django(url)
    out = sys.stdout
    out.write(f"database {database_label()}: {schools} schools, {users:,} users\n")
    populate(schools, users, out)

    from courses.models import LibraryTrainingFigures
    from courses.training.figures import rebuild

    if not LibraryTrainingFigures.objects.exists():
        started = time.perf_counter()
        out.write(f"  training figures rebuilt: {rebuild()} rows\n")
        step(out, "rebuild_training_figures", started)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from courses.models import ClassGroup, Enrollment, LessonProgress

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM courses_xapistatement")
        statements = cursor.fetchone()[0]
    out.write(
        f"rows: {Enrollment.objects.count():,} enrolments, "
        f"{LessonProgress.objects.count():,} lesson progress, {statements:,} xAPI statements\n"
    )
    admin = get_user_model().objects.get(username="bd-admin")
    client = Client()
    client.force_login(admin)
    client.cookies["django_language"] = "vi"
    class_group = ClassGroup.objects.filter(library__code="BDS007").order_by("pk").first()
    district = class_group.library.parent
    results = {
        "network": time_page(
            client, "network dashboard (all)", reverse("courses:network_dashboard"), runs, out
        ),
    }
    time_page(
        client,
        "network dashboard (sorted by rate)",
        reverse("courses:network_dashboard") + "?order=completion_rate",
        runs,
        out,
    )
    time_page(
        client,
        "network dashboard (1 district)",
        reverse("courses:network_dashboard") + f"?district={district.pk}",
        runs,
        out,
    )
    time_page(
        client, "network export (xlsx)", reverse("courses:network_export", args=["xlsx"]), runs, out
    )
    results["library"] = time_page(
        client,
        "library dashboard (school)",
        reverse("courses:library_dashboard", args=[class_group.library.code]),
        runs,
        out,
    )
    client.force_login(class_group.teachers.first())
    results["class"] = time_page(
        client,
        "class report (35 students)",
        reverse("courses:class_report", args=[class_group.pk]),
        runs,
        out,
    )
    time_page(
        client,
        "class report export (xlsx)",
        reverse("courses:class_report_export", args=[class_group.pk, "xlsx"]),
        runs,
        out,
    )
    out.write(
        f"goals: network p95 {results['network']:.0f} ms (< 1000), "
        f"class report p95 {results['class']:.0f} ms (< 200)\n"
    )


if __name__ == "__main__":
    main()
