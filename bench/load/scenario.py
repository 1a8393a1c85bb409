"""The load test's scenario as plain data: who comes, how often, and which addresses they ask.

bench/load/locustfile.py builds its users from this module; tests/bench/test_locustfile.py
checks it (weights, every address resolves to the view named here) without Locust.
"""

import json
import os
import random
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

# Share of the simulated users (issue 14): anonymous catalog searches 40 %, learners 30 %,
# desk scans 15 %, readers' loans and holds 10 %, dashboards 5 %.
WEIGHTS = {
    "CatalogVisitor": 40,
    "Learner": 30,
    "DeskLibrarian": 15,
    "Reader": 10,
    "DashboardViewer": 5,
}

# The name each request is reported under -> (address, with {fields}; the view it reaches).
# None for a Wagtail page: its address comes from the scenario file and Wagtail serves it.
ROUTES = {
    "home": ("/", None),
    "login form": ("/accounts/login/", "account_login"),
    "login": ("/accounts/login/", "account_login"),
    "catalog search": ("/catalog/?q={q}", "libraries:catalog_search"),
    "catalog search, page 2": ("/catalog/?q={q}&page=2", "libraries:catalog_search"),
    "catalog record": ("/catalog/record/{record}/", "libraries:record_detail"),
    "lesson": ("{url}", None),
    "H5P lesson": ("{url}", None),
    "xAPI statements": ("/api/xapi/statements", "courses:xapi_statements"),
    "my learning": ("/my/learning/", "courses:my_learning"),
    "desk": ("/desk/?library={library}", "libraries:desk"),
    "desk scan: card": ("/desk/scan/", "libraries:desk_scan"),
    "desk scan: check-out": ("/desk/scan/", "libraries:desk_scan"),
    "desk scan: check-in": ("/desk/scan/", "libraries:desk_scan"),
    "my loans": ("/my/loans/", "libraries:my_loans"),
    "place hold": ("/catalog/record/{record}/hold/", "libraries:place_hold"),
    "cancel hold": ("/my/holds/{hold}/cancel/", "libraries:my_cancel_hold"),
    "network dashboard": ("/dashboards/network/", "courses:network_dashboard"),
    "library dashboard": ("/dashboards/library/{code}/", "courses:library_dashboard"),
    "class report": ("/teach/classes/{klass}/report/", "courses:class_report"),
}

# Requests that the goals count as "fast" actions (p95 < 100 ms at 100 users); every other
# name but the login is a page (p95 < 300 ms).
FAST = ("desk scan: card", "desk scan: check-out", "desk scan: check-in", "xAPI statements")
NOT_COUNTED = ("login form", "login")

# Users in steps, so the report gives figures per step (LoadTestShape in the locustfile).
STEPS = (25, 50, 100, 150, 200)
MAX_USERS = 200
SPAWN_RATE = 2.0
RUN_SECONDS = 600  # --run-time 10m: 2 minutes per step


def path(name: str, **fields) -> str:
    return ROUTES[name][0].format(**fields)


def scenario_file() -> Path:
    work = os.environ.get("LOAD_WORK_DIR") or str(Path(tempfile.gettempdir()) / "kb_load")
    return Path(os.environ.get("LOAD_SCENARIO") or Path(work) / "scenario.json")


def load_scenario() -> dict:
    """The accounts, barcodes and addresses bench/load/data.py wrote for the scenario."""
    file = scenario_file()
    if not file.is_file():
        raise SystemExit(f"{file} is missing: build it with .venv/bin/python bench/load/data.py")
    return json.loads(file.read_text())


ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def xapi_statement(iri: str, rng: random.Random | None = None) -> dict:
    """One statement as the H5P player sends it: answered or completed, with a score."""
    rng = rng or random.Random()
    raw = rng.randint(0, 10)
    verb = rng.choice((ANSWERED, COMPLETED))
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {"objectType": "Agent", "mbox": "mailto:ignored@example.org"},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
        "object": {"id": iri, "objectType": "Activity"},
        "result": {
            "score": {"min": 0, "max": 10, "raw": raw, "scaled": raw / 10},
            "completion": True,
            "success": raw >= 5,
            "duration": f"PT{rng.randint(5, 90)}S",
        },
        "timestamp": datetime.now(UTC).isoformat(),
    }
