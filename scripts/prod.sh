#!/usr/bin/env bash
# The production stack on one machine (`make prod`; docs/OPERATIONS.md): checks the
# environment, starts PostgreSQL and Redis when they are installed here and down, installs
# (make setup), migrates, collects the static files, then runs gunicorn and the background
# task worker together until Ctrl-C or SIGTERM, which stops both cleanly.
#
#   ENV_FILE=/etc/knowledge-bridge/prod.env make prod      (see scripts/prod.env.example)
#
# PROD_SKIP_SETUP=1 skips `make setup` (nothing to install: a restart of the same code).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${ENV_FILE:-}" ]; then
  [ -r "$ENV_FILE" ] || { echo "ENV_FILE=$ENV_FILE cannot be read." >&2; exit 2; }
  given=$(export -p)  # what the environment sets already wins over the file
  set -a
  # shellcheck disable=SC1090  # the operator's file
  . "$ENV_FILE"
  set +a
  eval "$given"
fi
export DJANGO_SETTINGS_MODULE=training_site.settings.production

# What must be set, and why; the script starts nothing until every line is right.
problems=()
require() {  # NAME, what it is
  if [ -z "${!1:-}" ]; then problems+=("  $1  $2"); fi
}
require SECRET_KEY "a long random string: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
require ALLOWED_HOSTS "the site's host names, comma-separated: thuvien.example.vn"
require SITE_URL "the public address used in e-mails: https://thuvien.example.vn"
require DATABASE_URL "PostgreSQL: postgres://kb:PASSWORD@127.0.0.1:5432/knowledge_bridge"
require REDIS_URL "Redis, shared by every worker (cache, sessions, rate limits): redis://127.0.0.1:6379/0"
case "${SECRET_KEY:-}" in
  replace-with-*) problems+=("  SECRET_KEY  still holds the example's text: generate one") ;;
esac
if [ -n "${SECRET_KEY:-}" ] && [ "${#SECRET_KEY}" -lt 50 ]; then
  problems+=("  SECRET_KEY  is ${#SECRET_KEY} characters long: use at least 50")
fi
case "${DATABASE_URL:-postgres://}" in
  postgres://* | postgresql://*) ;;
  *) problems+=("  DATABASE_URL  must be a PostgreSQL address (postgres://...)") ;;
esac
case "${REDIS_URL:-redis://}" in
  redis://* | rediss://* | unix://*) ;;
  *) problems+=("  REDIS_URL  must be a Redis address (redis://host:6379/0)") ;;
esac
if [ "${#problems[@]}" -gt 0 ]; then
  {
    echo "The production stack needs these environment variables (scripts/prod.env.example"
    echo "lists every setting; ENV_FILE=FILE make prod reads them from FILE):"
    printf '%s\n' "${problems[@]}"
  } >&2
  exit 2
fi

# host and port of a postgres:// or redis:// address (empty host: the local socket).
address() {
  python3 -c 'import sys, urllib.parse as u; a = u.urlsplit(sys.argv[1]); print(a.hostname or "", a.port or sys.argv[2])' "$1" "$2"
}
is_local() {
  case "$1" in "" | 127.* | localhost | ::1 | /*) return 0 ;; *) return 1 ;; esac
}

read -r pg_host pg_port < <(address "$DATABASE_URL" 5432)
pg_ready() { pg_isready -q ${pg_host:+-h "$pg_host"} -p "$pg_port"; }
if is_local "$pg_host" && command -v pg_isready >/dev/null && ! pg_ready; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "Starting PostgreSQL..."
    for version in /etc/postgresql/*/; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
    done
    for _ in $(seq 30); do pg_ready && break; sleep 1; done
  fi
  pg_ready || { echo "PostgreSQL does not answer on ${pg_host:-its socket}:$pg_port." >&2; exit 1; }
fi

read -r redis_host redis_port < <(address "$REDIS_URL" 6379)
redis_ready() { redis-cli -h "${redis_host:-127.0.0.1}" -p "$redis_port" ping >/dev/null 2>&1; }
if is_local "$redis_host" && command -v redis-cli >/dev/null && ! redis_ready; then
  echo "Starting Redis..."
  if [ -x /etc/init.d/redis-server ] && [ "$redis_port" = 6379 ]; then
    /etc/init.d/redis-server start || true
  fi
  if ! redis_ready && command -v redis-server >/dev/null; then
    redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes >/dev/null
  fi
  for _ in $(seq 10); do redis_ready && break; sleep 1; done
  redis_ready || { echo "Redis does not answer on 127.0.0.1:$redis_port." >&2; exit 1; }
fi

if [ "${PROD_SKIP_SETUP:-0}" != 1 ]; then
  make setup
fi
PY=.venv/bin/python
# A database that does not exist yet is created when the server lets this role do it.
if ! "$PY" -c 'import os, psycopg; psycopg.connect(os.environ["DATABASE_URL"]).close()' 2>/dev/null; then
  "$PY" - <<'EOF' || exit 1
import os, sys, urllib.parse
import psycopg
from psycopg import sql

url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
server = url._replace(path="/postgres").geturl()
try:
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
except psycopg.Error as error:
    sys.exit(
        f"The database {name!r} cannot be reached or created ({error}). As the postgres user:\n"
        f"  createuser --pwprompt {url.username or 'kb'}\n"
        f"  createdb --owner {url.username or 'kb'} {name}"
    )
print(f"Created the database {name!r}.")
EOF
fi

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py check --deploy

# Each in its own session: Ctrl-C reaches this script only, which stops both once, gracefully
# (gunicorn finishes the requests in flight, the worker the task it runs).
setsid .venv/bin/gunicorn -c scripts/gunicorn.conf.py &
web=$!
setsid "$PY" manage.py db_worker --interval 1 &
worker=$!

stop() {
  trap - INT TERM
  echo "Stopping gunicorn ($web) and the task worker ($worker)..."
  kill -TERM "$web" "$worker" 2>/dev/null || true
  wait "$web" "$worker" 2>/dev/null || true
  echo "Stopped."
  exit 0
}
trap stop INT TERM

# Either one ending by itself stops the other: the stack runs whole or not at all.
set +e
wait -n "$web" "$worker"
status=$?
set -e
trap - INT TERM
echo "A process of the stack ended (status $status): stopping the other." >&2
kill -TERM "$web" "$worker" 2>/dev/null || true
wait "$web" "$worker" 2>/dev/null || true
exit $((status == 0 ? 1 : status))
