"""Locust scenario of issue 14: the province's morning, on the production stack over loopback.

    make load-test                       # installs Locust, runs this headless (docs/BENCHMARKS.md)
    .venv/bin/locust -f bench/load/locustfile.py --headless --host http://127.0.0.1:8100

Five kinds of users (weights in bench/load/scenario.py): anonymous catalog searches,
learners opening lessons and posting xAPI statement lists, librarians scanning at a desk,
readers looking at their loans and placing and cancelling holds, staff opening dashboards.
Everyone but the anonymous visitors logs in through the real login form (CSRF token from the
form, one password hash shared by every load-test account: bench/load/data.py).

The shape ramps up in steps (scenario.STEPS, at most 200 users). Each request is kept with
the step it ran in; at the end the figures per step and per request name (p50/p95/p99,
errors, requests per second) go to LOAD_REPORT (default /tmp/kb_load/report.json), counted
only once the step's users have all started (its first seconds spawn and log in users).
"""

import json
import math
import os
import random
import re
import sys
import time
from itertools import count
from pathlib import Path

from locust import HttpUser, LoadTestShape, between, events, task
from urllib3.util.retry import Retry

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenario  # noqa: E402  (bench/load/scenario.py, beside this file)

DATA = scenario.load_scenario()
# LOAD_PACE=4: every user thinks 4 times less, so 200 users ask as much as 800 would (the
# machine's bound stays 200 simulated users; the report gives both counts).
PACE = float(os.environ.get("LOAD_PACE") or 1)
HOLD_CANCEL = re.compile(r"/my/holds/(\d+)/cancel/")
desk_numbers = count()


RETRIED: list[str] = []


class BrowserRetry(Retry):
    """One new try when a connection breaks before any answer, as a browser does for a
    reused keep-alive connection the server closed at the same moment (RFC 9112, 9.3.1);
    gunicorn closes idle connections after 5 s (keepalive) and when it recycles a worker.
    Never on an answer: a 4xx or 5xx counts as it is. Every retry is counted in the report."""

    def increment(self, method=None, url=None, *args, **kwargs):
        RETRIED.append(f"{method} {url}: {kwargs.get('error')!r}"[:200])
        return super().increment(method, url, *args, **kwargs)


def browser_like(client) -> None:
    retry = BrowserRetry(total=1, connect=1, read=1, status=0, other=0, allowed_methods=None)
    for prefix in ("http://", "https://"):
        client.get_adapter(prefix).max_retries = retry


def csrf_headers(client) -> dict:
    return {"X-CSRFToken": client.cookies.get("csrftoken", ""), "Referer": client.base_url + "/"}


class LoggedIn(HttpUser):
    """A user who logs in through the login form first (the CSRF token comes from it)."""

    abstract = True

    def log_in(self, username: str) -> None:
        browser_like(self.client)
        self.client.get(scenario.path("login form"), name="login form")
        with self.client.post(
            scenario.path("login"),
            data={
                "login": username,
                "password": DATA["password"],
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            headers={"Referer": self.client.base_url + scenario.path("login")},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "sessionid" not in self.client.cookies:
                response.failure(f"login of {username} refused ({response.status_code})")

    def post(self, name: str, url: str, **kwargs):
        headers = {**csrf_headers(self.client), **kwargs.pop("headers", {})}
        return self.client.post(url, name=name, headers=headers, **kwargs)


class CatalogVisitor(HttpUser):
    """Anyone searching the union catalog, now and then a second page or a record."""

    weight = scenario.WEIGHTS["CatalogVisitor"]
    wait_time = between(3 / PACE, 10 / PACE)

    def on_start(self):
        browser_like(self.client)

    def words(self) -> str:
        return " ".join(random.sample(DATA["search_words"], random.choice((1, 1, 2))))

    @task(6)
    def search(self):
        self.client.get(scenario.path("catalog search", q=self.words()), name="catalog search")

    @task(1)
    def second_page(self):
        self.client.get(
            scenario.path("catalog search, page 2", q=self.words()), name="catalog search, page 2"
        )

    @task(3)
    def record(self):
        record = random.choice(DATA["record_ids"])
        self.client.get(scenario.path("catalog record", record=record), name="catalog record")

    @task(1)
    def home(self):
        self.client.get(scenario.path("home"), name="home")


class Learner(LoggedIn):
    """A student reading the lessons of their courses and answering the H5P activities."""

    weight = scenario.WEIGHTS["Learner"]
    wait_time = between(5 / PACE, 15 / PACE)

    def on_start(self):
        self.username, self.courses = random.choice(DATA["learners"])
        self.log_in(self.username)

    @task(4)
    def lesson(self):
        lessons = DATA["course_lessons"][random.choice(self.courses)]
        self.client.get(random.choice(lessons), name="lesson")

    @task(4)
    def h5p_lesson_and_answers(self):
        h5p = DATA["h5p"]
        self.client.get(h5p["url"], name="H5P lesson")
        base = self.client.base_url.rstrip("/")
        statements = [
            scenario.xapi_statement(f"{base}/courses/activity/{h5p['lesson_id']}/{block}")
            for block in random.sample(h5p["blocks"], min(len(h5p["blocks"]), random.randint(2, 5)))
        ]
        with self.post(
            "xAPI statements",
            scenario.path("xAPI statements"),
            data=json.dumps(statements),
            headers={"Content-Type": "application/json"},
            catch_response=True,
        ) as response:
            if response.status_code != 200 or len(response.json()) != len(statements):
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def my_learning(self):
        self.client.get(scenario.path("my learning"), name="my learning")


class DeskLibrarian(LoggedIn):
    """A librarian at a school desk: reader's card, a book out, later a book back in.

    Each desk has a library of its own (no two users scan the same barcodes), and its readers
    are the upper half of that library's cards (the lower half hold the prepared loans).
    """

    weight = scenario.WEIGHTS["DeskLibrarian"]
    wait_time = between(4 / PACE, 12 / PACE)

    def on_start(self):
        desks = DATA["desks"]
        self.username, self.library, self.n = desks[next(desk_numbers) % len(desks)]
        self.on_loan: list[str] = []
        self.log_in(self.username)
        self.client.get(scenario.path("desk", library=self.library), name="desk")

    def on_stop(self):
        while self.on_loan:  # leave the books where they were for the next run
            self.scan("desk scan: check-in", "checkin", self.on_loan.pop())

    def scan(self, name: str, mode: str, code: str) -> bool:
        with self.post(
            name,
            scenario.path(name),
            data={"library": self.library, "mode": mode, "code": code},
            headers={"Accept": "application/json"},
            catch_response=True,
        ) as response:
            try:
                answer = response.json()
            except ValueError:
                response.failure(f"{response.status_code}: not JSON")
                return False
            if not answer.get("ok"):
                response.failure(f"refused: {answer.get('message', '')[:120]}")
                return False
            return True

    @task(3)
    def check_out(self):
        libraries = DATA["desk_libraries"]
        cards = DATA["desk_cards_per_library"]
        items = DATA["desk_items_per_library"] - 200  # the last 200 hold the prepared loans
        card = f"BX-{random.randrange(cards // 2, cards) * libraries + self.n:07d}"
        barcode = f"BX{random.randrange(items) * libraries + self.n:09d}"
        if barcode in self.on_loan:
            return
        if self.scan("desk scan: card", "checkout", card) and self.scan(
            "desk scan: check-out", "checkout", barcode
        ):
            self.on_loan.append(barcode)

    @task(3)
    def check_in(self):
        if self.on_loan:
            self.scan("desk scan: check-in", "checkin", self.on_loan.pop(0))

    @task(1)
    def desk_page(self):
        self.client.get(scenario.path("desk", library=self.library), name="desk")


class Reader(LoggedIn):
    """A reader with a card and loans: their loans page, a search, a hold placed and cancelled."""

    weight = scenario.WEIGHTS["Reader"]
    wait_time = between(5 / PACE, 15 / PACE)

    def on_start(self):
        self.username, self.home = random.choice(DATA["readers"])
        self.log_in(self.username)

    @task(4)
    def my_loans(self):
        self.client.get(scenario.path("my loans"), name="my loans")

    @task(2)
    def search(self):
        words = " ".join(random.sample(DATA["search_words"], 1))
        self.client.get(scenario.path("catalog search", q=words), name="catalog search")

    @task(2)
    def hold_and_cancel(self):
        record = random.choice(DATA["record_ids"])
        self.client.get(scenario.path("catalog record", record=record), name="catalog record")
        self.post(
            "place hold",
            scenario.path("place hold", record=record),
            data={"pickup_library": self.home, "next": scenario.path("my loans")},
            allow_redirects=False,
        )
        page = self.client.get(scenario.path("my loans"), name="my loans")
        for hold in HOLD_CANCEL.findall(page.text):
            self.post("cancel hold", scenario.path("cancel hold", hold=hold), allow_redirects=False)


class DashboardViewer(LoggedIn):
    """Staff looking at figures: the network administrator, or a teacher-librarian."""

    weight = scenario.WEIGHTS["DashboardViewer"]
    wait_time = between(10 / PACE, 30 / PACE)

    def on_start(self):
        if random.random() < 0.25:
            self.username, self.klass, self.code = DATA["network_admin"], None, None
        else:
            self.username, self.klass, self.code = random.choice(DATA["teachers"])
        self.log_in(self.username)

    @task
    def dashboards(self):
        if self.klass is None:
            self.client.get(scenario.path("network dashboard"), name="network dashboard")
            return
        if random.random() < 0.6:
            self.client.get(scenario.path("class report", klass=self.klass), name="class report")
        else:
            self.client.get(
                scenario.path("library dashboard", code=self.code), name="library dashboard"
            )


class Steps(LoadTestShape):
    """25, 50, 100, 150, 200 users, each step held for an equal part of the run time.

    Reads Locust's own options: --users (the top, at most scenario.MAX_USERS), --spawn-rate
    and --run-time (split equally over the steps; Locust also stops the run at that time).
    """

    use_common_options = True

    def __init__(self):
        super().__init__()
        self.configure(scenario.MAX_USERS, scenario.SPAWN_RATE, scenario.RUN_SECONDS)

    def configure(self, users: int, spawn_rate: float, run_seconds: int) -> None:
        top = min(users or scenario.MAX_USERS, scenario.MAX_USERS)
        self.steps = [n for n in scenario.STEPS if n < top] + [top]
        self.spawn_rate = spawn_rate or scenario.SPAWN_RATE
        self.seconds = max((run_seconds or scenario.RUN_SECONDS) // len(self.steps), 10)

    def tick(self):
        if self.runner is not None and not getattr(self, "configured", False):
            options = self.runner.environment.parsed_options
            if options is not None:
                self.configure(options.num_users, options.spawn_rate, options.run_time)
            self.configured = True
        index = int(self.get_run_time() // self.seconds)
        if index >= len(self.steps):
            return None
        return self.steps[index], self.spawn_rate

    def steady_from(self, index: int) -> float:
        """When the step's users have all started: its start plus the time to spawn them."""
        before = self.steps[index - 1] if index else 0
        return index * self.seconds + math.ceil((self.steps[index] - before) / self.spawn_rate)


# --- figures per step ---------------------------------------------------------------------

RECORDS: list[tuple[float, str, float, bool]] = []
STARTED = [0.0]


@events.test_start.add_listener
def started(environment, **_kwargs):
    STARTED[0] = time.monotonic()
    RECORDS.clear()
    RETRIED.clear()


@events.request.add_listener
def keep(request_type, name, response_time, response_length, exception, **_kwargs):
    RECORDS.append((time.monotonic() - STARTED[0], name, response_time, exception is not None))


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(max(math.ceil(pct / 100 * len(ordered)), 1), len(ordered)) - 1]


def _summary(rows, seconds: float) -> dict:
    times = [r[2] for r in rows]
    return {
        "requests": len(rows),
        "errors": sum(1 for r in rows if r[3]),
        "rps": round(len(rows) / seconds, 2) if seconds > 0 else 0,
        "p50": round(_pct(times, 50)) if times else None,
        "p95": round(_pct(times, 95)) if times else None,
        "p99": round(_pct(times, 99)) if times else None,
    }


def figures(records, shape: Steps) -> dict:
    """Per step (steady part only) and per request name; the users at which p95 passes 1 s."""
    steps = []
    for index, users in enumerate(shape.steps):
        start, end = shape.steady_from(index), (index + 1) * shape.seconds
        rows = [r for r in records if start <= r[0] < end]
        if not rows:
            continue
        counted = [r for r in rows if r[1] not in scenario.NOT_COUNTED]
        pages = [r for r in counted if r[1] not in scenario.FAST]
        fast = [r for r in counted if r[1] in scenario.FAST]
        steps.append(
            {
                "users": users,
                "seconds": end - start,
                "all": _summary(counted, end - start),
                "pages": _summary(pages, end - start),
                "fast": _summary(fast, end - start),
                "logins": _summary([r for r in rows if r[1] == "login"], end - start),
                "by_name": {
                    name: _summary([r for r in rows if r[1] == name], end - start)
                    for name in sorted({r[1] for r in rows})
                },
            }
        )
    over = [s["users"] for s in steps if (s["all"]["p95"] or 0) > 1000]
    return {
        "step_seconds": shape.seconds,
        "pace": PACE,
        "spawn_rate": shape.spawn_rate,
        "steps": steps,
        "p95_over_1s_at_users": over[0] if over else None,
        "errors_total": sum(1 for r in records if r[3]),
        "connection_retries": list(RETRIED),
        "requests_total": len(records),
    }


@events.quitting.add_listener
def report(environment, **_kwargs):
    shape = environment.shape_class
    if not isinstance(shape, Steps):
        return
    result = figures(list(RECORDS), shape)
    work = scenario.scenario_file().parent
    out = Path(os.environ.get("LOAD_REPORT") or work / "report.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"\nFigures per step: {out}")
    for step in result["steps"]:
        a = step["all"]
        print(
            f"{step['users']:>4} users: {a['rps']:6.1f} req/s  p50 {a['p50']} ms  "
            f"p95 {a['p95']} ms  p99 {a['p99']} ms  errors {a['errors']}"
        )
    print(f"p95 over 1 s from: {result['p95_over_1s_at_users'] or 'never (up to the last step)'}")
    print(f"connections tried again: {len(RETRIED)}")
