"""Mobile API latency through the whole Django stack: p50/p95 of /api/v1/catalog/search (the
OPAC page /catalog/ beside it, same query mix) and /api/v1/me/loans for a reader with loans.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench] \
      .venv/bin/python bench/api.py --rounds 5

Fill the database with bench/catalog_data.py first (same default database). Requests go
through django.test.Client: URL routing, every middleware, ninja's validation, the session
token lookup and the rate limits, the JSON (or the page's template). Server time without the
network. The rate-limit counters are reset between requests, outside the timing (a benchmark
sends more than an address or a token may). The reader, their card and loans are created
once (user `bench_api_reader`) and reused.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    LOCAL_POSTGRES,
    database_label,
    own_database,
    p95,
    setup_django,
)

setup_django(own_database(LOCAL_POSTGRES + "kb_bench"), settings="training_site.settings.dev")

import datetime  # noqa: E402
import hashlib  # noqa: E402

from allauth.account.models import EmailAddress  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from libraries.circulation.services import check_out  # noqa: E402
from libraries.models import CirculationRule, Item, Library, Loan, Patron, Record  # noqa: E402

HOST = "localhost"  # in ALLOWED_HOSTS by default
ADDRESS = "127.0.0.1"
READER, PASSWORD, CARD = "bench_api_reader", "bench-api-2026", "BAPI000001"
LOANS = 10

# The OPAC benchmark's mix (bench/catalog_search.py) in the API's parameters: accented and
# accent-free words, fields, a library, copies available now, later pages.
QUERIES = [
    {"q": "việt nam"},
    {"q": "viet nam"},
    {"q": "lịch sử"},
    {"q": "lich su"},
    {"q": "quê hương"},
    {"q": "que huong"},
    {"q": "duong"},
    {"q": "đường"},
    {"q": "tuoi tho hoc tro"},
    {"q": "tuổi thơ học trò"},
    {"q": "khoa hoc tu nhien"},
    {"q": "truyện cổ tích"},
    {"q": "nguyen van an"},
    {"q": "Trần Thị Mai", "field": "author"},
    {"q": "pham", "field": "author"},
    {"q": "van hoc", "field": "subject"},
    {"q": "mua xuan", "field": "title"},
    {"q": "bien dao"},
    {"q": "ha noi"},
    {"q": "s"},
    {"q": "vu tru kham pha"},
    {"q": "ánh sáng bóng tối"},
    {"q": "bac ho"},
    {"q": "tin hoc lap trinh"},
    {"q": "xyzzy không có"},
    {"q": "978604000123", "field": "isbn"},
    {"q": "viet", "available": True},
    {"q": "que huong", "library": "BS010"},
    {"q": "tho", "library": "BTVT", "available": True},
    {"q": "lich su", "library": "BD03", "available": True},
    {"q": "truyen", "page": 3},
    {"q": "gia dinh", "page": 50},
]


def opac_params(params: dict) -> dict:
    """The same query as the OPAC form sends it (a checkbox says "on")."""
    return {k: ("on" if v is True else v) for k, v in params.items()}


def reader_with_loans() -> Patron:
    """The benchmark's reader: an account with a verified address, a card at a school library,
    LOANS current loans lent by the circulation service."""
    User = get_user_model()
    user = User.objects.filter(username=READER).first()
    if user is None:
        user = User.objects.create_user(READER, f"{READER}@example.org", PASSWORD)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    library = Library.objects.get(code="BS010")
    patron, _ = Patron.objects.get_or_create(
        card_number=CARD,
        defaults={
            "home_library": library,
            "full_name": "Bạn đọc đo tốc độ",
            "user": user,
            "expires_on": timezone.localdate() + datetime.timedelta(days=365),
        },
    )
    missing = LOANS - Loan.objects.filter(patron=patron, returned_at__isnull=True).count()
    if missing > 0:
        staff = User.objects.filter(username="bench_api_staff").first()
        if staff is None:
            staff = User.objects.create_superuser("bench_api_staff", "", "bench-api-staff-2026")
        # The school lends up to LOANS books at a time (the rule in code allows 3).
        CirculationRule.objects.get_or_create(
            library=library, patron_category="", item_type="", defaults={"max_loans": LOANS}
        )
        shelf = Item.objects.filter(library=library, status=Item.Status.AVAILABLE)[:missing]
        for item in shelf:
            check_out(item_barcode=item.barcode, card_number=CARD, by=staff, at=library)
    return patron


def session_token(client: Client) -> str:
    response = client.post(
        "/_allauth/app/v1/auth/login",
        {"username": READER, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def reset_limits(token: str = "") -> None:
    keys = [f"kb:api:address:{ADDRESS}"]
    if token:
        keys.append(f"kb:api:token:{hashlib.sha256(token.encode()).hexdigest()}")
    cache.delete_many(keys)


def timed(client: Client, path: str, params: dict | None = None, **headers) -> tuple[float, int]:
    """Milliseconds for one GET through the whole stack, and the size of the answer."""
    start = time.perf_counter()
    response = client.get(path, params or {}, **headers)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, params, response.status_code)
    return elapsed, len(response.content)


def summary(name: str, timings: list[float], per_query: dict, queries: list[int]) -> None:
    print(
        f"{name}: {len(timings)} requests; p50 {statistics.median(timings):.1f} ms, "
        f"p95 {p95(timings):.1f} ms, max {max(timings):.1f} ms; "
        f"SQL queries per request {min(queries)}-{max(queries)}"
    )
    slowest = sorted(per_query.items(), key=lambda kv: -statistics.median(kv[1]))[:3]
    for query, values in slowest:
        print(f"  slowest: {query} median {statistics.median(values):.1f} ms")


def count_queries(client: Client, path: str, params: dict, token: str = "", **headers) -> int:
    reset_limits(token)
    with CaptureQueriesContext(connection) as captured:
        client.get(path, params, **headers)
    return len(captured)


def compare_search(client: Client, rounds: int) -> None:
    """The OPAC page and the API endpoint, request for request over the same mix, in turns
    (the first of the two alternates), so that a change of load weighs on both alike."""
    endpoints = {
        "OPAC page /catalog/": ("/catalog/", opac_params),
        "API /api/v1/catalog/search": ("/api/v1/catalog/search", lambda p: p),
    }
    for path, param in endpoints.values():  # warm the caches once
        for params in QUERIES:
            reset_limits()
            client.get(path, param(params))
    timings = {name: [] for name in endpoints}
    per_query = {name: {} for name in endpoints}
    for round_number in range(rounds):
        for params in QUERIES:
            names = list(endpoints)
            if round_number % 2:
                names.reverse()
            for name in names:
                path, param = endpoints[name]
                reset_limits()
                elapsed, _size = timed(client, path, param(params))
                timings[name].append(elapsed)
                per_query[name].setdefault(str(params), []).append(elapsed)
    for name, (path, param) in endpoints.items():
        queries = [count_queries(client, path, param(params)) for params in QUERIES]
        summary(name, timings[name], per_query[name], queries)


def measure_loans(app: Client, token: str, rounds: int) -> None:
    path, headers = "/api/v1/me/loans", {"HTTP_X_SESSION_TOKEN": token}
    reset_limits(token)
    app.get(path, **headers)  # warm
    timings = []
    for _ in range(rounds * len(QUERIES)):
        reset_limits(token)
        timings.append(timed(app, path, **headers)[0])
    queries = [count_queries(app, path, {}, token, **headers)]
    summary("API /api/v1/me/loans", timings, {"(the reader's loans)": timings}, queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    patron = reader_with_loans()
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"database: {database_label()}; records {Record.objects.count():,}, items "
        f"{Item.objects.count():,}, libraries {Library.objects.count()}; reader "
        f"{patron.card_number} with {Loan.objects.filter(patron=patron).count()} loans"
    )
    client = Client(HTTP_HOST=HOST, REMOTE_ADDR=ADDRESS)
    compare_search(client, args.rounds)
    token = session_token(client)
    app = Client(HTTP_HOST=HOST, REMOTE_ADDR=ADDRESS)  # no cookie: the token alone
    measure_loans(app, token, args.rounds)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
