"""gunicorn for Knowledge Bridge (scripts/prod.sh starts it; docs/OPERATIONS.md).

Workers and threads come from the cores. A page spends part of its time in Python (one core
per process because of the GIL) and part waiting on PostgreSQL and Redis. So: 2 x cores + 1
processes (gunicorn's rule: while one waits, another computes, and a crashed or recycled worker
leaves the others serving), each with 2 threads, so a worker waiting on the database still
answers a second request (an xAPI post, a desk scan) instead of queueing it. On 2 cores: 5
workers x 2 threads = 10 requests at once, 10 persistent database connections (CONN_MAX_AGE),
about 5 x 150 MB of memory. Threads also keep idle keep-alive connections from holding a whole
process, which sync workers cannot. Override with GUNICORN_WORKERS / GUNICORN_THREADS
(or WEB_CONCURRENCY, gunicorn's usual name for the worker count).
"""

import multiprocessing
import os


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdecimal() or int(value) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {value!r}.")
    return int(value)


cores = multiprocessing.cpu_count()

wsgi_app = "training_site.wsgi:application"
# Behind nginx on the same machine; GUNICORN_BIND=unix:/run/kb/gunicorn.sock works as well.
bind = os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"
workers = _whole_number("GUNICORN_WORKERS", _whole_number("WEB_CONCURRENCY", 2 * cores + 1))
threads = _whole_number("GUNICORN_THREADS", 2)
worker_class = "gthread"
# Load the site once in the master: workers start fast and share the code's memory pages.
preload_app = True
# A request that runs longer than this (the longest are exports and imports) is cut off.
timeout = _whole_number("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak in a library never grows without end.
max_requests = 5000
max_requests_jitter = 500
# Waiting connections beyond what the threads serve (a load test at 200 users waits here).
backlog = 2048
# The site logs each request itself as a JSON line (kb.request); gunicorn logs only its own
# events (start, worker timeouts) to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# X-Forwarded-Proto from nginx on this machine only (Django also reads it, see production.py).
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "knowledge-bridge"
control_socket_disable = True
