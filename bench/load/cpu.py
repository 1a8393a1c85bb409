"""CPU used by each part of the load test while it runs: PostgreSQL, gunicorn, Locust, the rest.

    .venv/bin/python bench/load/cpu.py OUT.jsonl [--interval 5]

Every interval, one JSON line: seconds since start, the load average, and the share of one
core each group took (1.0 = one core busy), read from /proc (Linux). Groups are found by
command line (first match wins): PostgreSQL's backends on kb_load apart from its shared
processes; backends of other databases count as "other", with everything else on the
machine (other people's work included).
Stops on SIGTERM or Ctrl-C.
"""

import argparse
import json
import os
import signal
import time
from pathlib import Path

GROUPS = {
    "gunicorn": ("gunicorn", "knowledge-bridge"),
    "task worker": ("db_worker",),
    "locust": ("locust",),
    "redis": ("redis-server",),
}
TICK = os.sysconf("SC_CLK_TCK")


def group_of(cmdline: str) -> str:
    words = cmdline.split()
    if words[:1] == ["postgres:"]:
        # "postgres: 15/main: USER DATABASE ADDRESS STATE" for a backend, else a shared process
        if len(words) >= 5:
            return "postgres kb_load" if words[3] == "kb_load" else "other"
        return "postgres, shared"
    if "bin/postgres" in cmdline:
        return "postgres, shared"
    for group, needles in GROUPS.items():
        if any(needle in cmdline for needle in needles):
            return group
    return "other"


def sample() -> tuple[dict[str, float], float]:
    """CPU seconds used so far by each group's live processes, and the machine's total."""
    used: dict[str, float] = dict.fromkeys(
        ["postgres kb_load", "postgres, shared", *GROUPS, "other"], 0.0
    )
    for entry in Path("/proc").iterdir():
        if not entry.name.isdecimal():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used[group_of(cmdline or stat)] += (int(fields[11]) + int(fields[12])) / TICK
    total = sum(int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:8])
    return used, total / TICK


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    started = time.monotonic()
    before, _ = sample()
    last = started
    with args.out.open("a") as out:
        while running[0]:
            try:
                time.sleep(args.interval)
            except KeyboardInterrupt:
                break
            now = time.monotonic()
            after, _ = sample()
            # A process that ended in the interval takes its CPU with it: never below zero.
            shares = {
                group: round(max(after[group] - before[group], 0.0) / (now - last), 2)
                for group in after
            }
            line = {"t": round(now - started), "load": os.getloadavg()[0], "cores": shares}
            out.write(json.dumps(line) + "\n")
            out.flush()
            before, last = after, now


if __name__ == "__main__":
    main()
