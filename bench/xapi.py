"""Benchmark: xAPI statements stored per second through the real endpoint.

Posts statements to POST /api/xapi/statements with Django's test client (full middleware
stack: sessions, CSRF, auth, locale) against a throw-away test database, one statement per
request and in lists of 10, and prints statements/s and queries per statement.

    .venv/bin/python bench/xapi.py [N]                       # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench .venv/bin/python bench/xapi.py
"""

import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "training_site.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)

ANSWERED = "http://adlnet.gov/expapi/verbs/answered"


def statement(iri, raw):
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:ignored@example.org"},
        "verb": {"id": ANSWERED, "display": {"en-US": "answered"}},
        "object": {"id": iri, "objectType": "Activity"},
        "result": {
            "score": {"min": 0, "max": 10, "raw": raw, "scaled": raw / 10},
            "completion": True,
            "success": raw >= 5,
            "duration": "PT12.5S",
        },
    }


def run(count: int) -> None:
    from courses.models import XAPIStatement
    from courses.training.progress import enrol, mark_viewed
    from tests.courses.training.factories import (
        activity_iri,
        h5p_block,
        make_course,
        make_lesson,
        quiz_block,
    )
    from tests.factories import UserFactory

    course = make_course()
    blocks = [h5p_block(pass_mark=80), h5p_block(), quiz_block()]
    lesson = make_lesson(course, blocks=blocks)
    make_lesson(course, title="Bài 2")
    user = UserFactory()
    enrol(user=user, course=course)
    mark_viewed(user=user, lesson=lesson)
    client = Client()
    client.force_login(user)
    iris = [activity_iri(lesson, b["id"]) for b in blocks[:2]]

    def post(items):
        response = client.post(
            "/api/xapi/statements", json.dumps(items), content_type="application/json"
        )
        assert response.status_code == 200, response.content

    # warm up (creates the activity rows)
    for iri in iris:
        post([statement(iri, 3)])

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as one:
        post([statement(iris[0], 4)])
    one_count = len(one.captured_queries)
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ten:
        post([statement(iris[i % 2], i % 10) for i in range(10)])
    ten_count = len(ten.captured_queries)
    per_statement = (ten_count - one_count) / 9

    stored_before = XAPIStatement.objects.count()
    rates = []
    for size in (1, 10, 50):
        batches = [
            [statement(iris[i % 2], i % 10) for i in range(j, min(j + size, count))]
            for j in range(0, count, size)
        ]
        started, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            post(batch)
        wall = time.perf_counter() - started
        rates.append((size, len(batches), count / wall, count / (time.process_time() - cpu)))
    stored = XAPIStatement.objects.count() - stored_before

    print(f"database: {connection.vendor}")
    print(f"statements stored in the timed runs: {stored}")
    print(f"queries for a request with 1 statement: {one_count}")
    print(f"queries per extra statement in a list: {per_statement:g}")
    for size, requests, rate, cpu_rate in rates:
        print(
            f"lists of {size:>2}: {rate:5.0f} statements/s wall clock, "
            f"{cpu_rate:5.0f} statements/s per CPU-second of the client+app process "
            f"({requests} requests)"
        )
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(count)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
