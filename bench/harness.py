"""What every benchmark script shares: its own database, Django set up on it, percentiles.

A benchmark writes and deletes rows freely, so it only ever runs on a database of its own:
the script's default (created here if missing), or a DATABASE_URL whose database name says
"bench" (an empty DATABASE_URL counts as unset). Anything else is refused before Django
connects.
"""

import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import django
import psycopg
from dj_database_url import parse
from django.core.management import call_command
from django.db import connection
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/"


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with pct % of the values at or below it."""
    ordered = sorted(values)
    rank = math.ceil(pct / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def p95(values: Iterable[float]) -> float:
    return percentile(values, 95)


def ensure_database(url: str) -> None:
    """Create the database `url` names if it does not exist yet (PostgreSQL or SQLite)."""
    config = parse(url)
    name = config["NAME"]
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(name).parent.mkdir(parents=True, exist_ok=True)  # sqlite creates the file
        return
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"Benchmarks run on PostgreSQL or SQLite, not {config['ENGINE']}.")
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def own_database(default_url: str, postgres_only: bool = False) -> str:
    """DATABASE_URL if it names a benchmark database, else `default_url`; refuses any other."""
    url = os.environ.get("DATABASE_URL") or default_url
    config = parse(url)
    if postgres_only and config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL=postgres://...).")
    name = Path(config["NAME"] or "").name
    if "bench" not in name:
        sys.exit(
            f"Refusing to run a benchmark on database {name!r}: it writes and deletes rows. "
            f"Name a database of its own (with 'bench' in the name) or leave DATABASE_URL "
            f"unset for {default_url}."
        )
    return url


def setup_django(
    url: str, settings: str = "training_site.settings.test", migrate: bool = True
) -> None:
    """Create the database if needed, set Django up on it (DEBUG off) and migrate it."""
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    os.environ.setdefault("DEBUG", "0")  # as in production: no query log, no template debug
    django.setup()
    if migrate:
        call_command("migrate", verbosity=0)


def database_label() -> str:
    """What the figures were measured on, for the first line a script prints."""
    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def load_average() -> str:
    """The machine's load average (1, 5, 15 minutes), printed beside the figures."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"
