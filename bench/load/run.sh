#!/usr/bin/env bash
# The load test (issue 14; `make load-test`; docs/BENCHMARKS.md, "Load test (Locust)").
#
# Starts the production stack (scripts/prod.sh: gunicorn with workers and threads from the
# cores, the task worker, Redis cache and sessions, DEBUG off) on the load test's database
# and on loopback only, waits for /healthz, runs bench/load/locustfile.py headless and
# bounded, then stops the stack. The data comes first: .venv/bin/python bench/load/data.py.
#
#   LOAD_USERS=200 LOAD_SPAWN_RATE=2 LOAD_RUN_TIME=10m LOAD_PORT=8100 bash bench/load/run.sh
#   LOAD_SERVER=0 ...   runs Locust only, against a stack already serving LOAD_PORT
set -euo pipefail
cd "$(dirname "$0")/../.."

users=${LOAD_USERS:-200}
spawn_rate=${LOAD_SPAWN_RATE:-2}
run_time=${LOAD_RUN_TIME:-10m}
port=${LOAD_PORT:-8100}
work=${LOAD_WORK_DIR:-${TMPDIR:-/tmp}/kb_load}
database=${LOAD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kb_load}
host="http://127.0.0.1:$port"

if ! [[ "$users" =~ ^[0-9]+$ ]] || [ "$users" -lt 1 ] || [ "$users" -gt 200 ]; then
  echo "LOAD_USERS must be 1 to 200 (this machine's bound), not '$users'." >&2
  exit 2
fi
case "$run_time" in
  [0-9]s | [0-9][0-9]s | [0-9][0-9][0-9]s | [0-9]m | 1[0-2]m) ;;
  *) echo "LOAD_RUN_TIME must be at most 12 minutes (e.g. 10m or 300s), not '$run_time'." >&2; exit 2 ;;
esac
case "$database" in
  *load*) ;;
  *) echo "LOAD_DATABASE_URL must name the load test's own database (kb_load)." >&2; exit 2 ;;
esac
[ -f "$work/scenario.json" ] || {
  echo "$work/scenario.json is missing: .venv/bin/python bench/load/data.py builds it." >&2
  exit 2
}
mkdir -p "$work"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

server=""
stop_server() {
  if [ -n "$server" ]; then
    # Its process group: prod.sh (which then stops gunicorn and the worker gracefully) and a
    # migrate or collectstatic it may still be running.
    kill -TERM -- "-$server" 2>/dev/null || kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
trap stop_server EXIT

if [ "${LOAD_SERVER:-1}" = 1 ]; then
  # Loopback over plain HTTP: no HTTPS redirect, cookies without the Secure flag.
  SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') \
  ALLOWED_HOSTS=127.0.0.1,localhost \
  SITE_URL="$host" \
  DATABASE_URL="$database" \
  REDIS_URL=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/14} \
  CACHE_KEY_PREFIX=kbload \
  SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 SECURE_HSTS_SECONDS=0 \
  GUNICORN_BIND="127.0.0.1:$port" \
  MEDIA_ROOT="$work/media" PRIVATE_MEDIA_ROOT="$work/private" STATIC_ROOT="$work/static" \
  PROD_SKIP_SETUP=1 \
    setsid bash scripts/prod.sh >"$work/server-$stamp.log" 2>&1 &
  server=$!
  for _ in $(seq 600); do  # migrate, collectstatic and check --deploy come first
    curl -fsS -o /dev/null "$host/healthz" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { tail -20 "$work/server-$stamp.log" >&2; exit 1; }
    sleep 1
  done
  curl -fsS -o /dev/null "$host/healthz" || { echo "The stack does not answer on $host." >&2; exit 1; }
fi

echo "load before: $(cat /proc/loadavg) on $(nproc) cores" | tee "$work/load-$stamp.txt"
# CPU per part (PostgreSQL on kb_load, gunicorn, Locust itself, everything else) every 5 s.
.venv/bin/python bench/load/cpu.py "$work/cpu-$stamp.jsonl" &
sampler=$!
LOAD_REPORT="$work/report-$stamp.json" .venv/bin/locust -f bench/load/locustfile.py --headless \
  --host "$host" --users "$users" --spawn-rate "$spawn_rate" --run-time "$run_time" \
  --stop-timeout 20 --only-summary --csv "$work/locust-$stamp" --loglevel WARNING \
  2>&1 | tee "$work/locust-$stamp.log" || true
kill -TERM "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
echo "load after: $(cat /proc/loadavg)" | tee -a "$work/load-$stamp.txt"
if [ -n "$server" ]; then
  grep -c '"status": 5' "$work/server-$stamp.log" | sed 's/^/server 5xx lines: /' || true
fi
echo "figures: $work/report-$stamp.json, CPU: $work/cpu-$stamp.jsonl, server log: $work/server-$stamp.log"
