"""Union catalog search latency: p50/p95 server time of the /catalog/ view over a query mix.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench] \
      .venv/bin/python bench/catalog_search.py --rounds 5

Fill the database with bench/catalog_data.py first (same default database). Each request
runs the real view (search, count, page of 20, holdings aggregate, template), called
in-process with a RequestFactory, so the figure is server time without the network.
"""

import argparse
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

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from libraries.catalog.views import catalog_search  # noqa: E402
from libraries.models import Item, Library, Record  # noqa: E402

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
    {"q": "viet", "available": "on"},
    {"q": "que huong", "library": "BS010"},
    {"q": "tho", "library": "BTVT", "available": "on"},
    {"q": "lich su", "year_from": "2000", "year_to": "2010"},
    {"q": "truyen", "language": "vie", "page": "3"},
    {"q": "gia dinh", "page": "50"},
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    factory = RequestFactory()
    print(
        f"database: {database_label()}; records {Record.objects.count():,}, items "
        f"{Item.objects.count():,}, libraries {Library.objects.count()}"
    )
    for params in QUERIES:  # warm the caches once
        request = factory.get("/catalog/", params)
        request.user = AnonymousUser()
        catalog_search(request)
    timings, per_query = [], {}
    for _ in range(args.rounds):
        for params in QUERIES:
            request = factory.get("/catalog/", params)
            request.user = AnonymousUser()
            start = time.perf_counter()
            response = catalog_search(request)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200
            timings.append(elapsed)
            per_query.setdefault(str(params), []).append(elapsed)
    print(f"requests: {len(timings)} ({len(QUERIES)} queries x {args.rounds} rounds)")
    print(
        f"p50 {statistics.median(timings):.1f} ms, p95 {p95(timings):.1f} ms, "
        f"max {max(timings):.1f} ms"
    )
    slowest = sorted(per_query.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
    for query, values in slowest:
        print(f"  slowest: {query} median {statistics.median(values):.1f} ms")


if __name__ == "__main__":
    main()
