"""Markdown tables from a load run: figures per step and per request, CPU per part.

    .venv/bin/python bench/load/report.py /tmp/kb_load/report-STAMP.json [--step-users 100]

Reads the locustfile's report (report-STAMP.json) and, beside it, the CPU samples of
bench/load/cpu.py (cpu-STAMP.jsonl), and prints what docs/BENCHMARKS.md shows.
"""

import argparse
import json
from pathlib import Path


def row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def ms(value) -> str:
    return "" if value is None else f"{value:,}"


def cpu_per_step(samples: list[dict], report: dict) -> dict[int, dict[str, float]]:
    """Mean share of a core per group over each step's steady part (samples are every 5 s)."""
    seconds = report["step_seconds"]
    result = {}
    for index, step in enumerate(report["steps"]):
        end = (index + 1) * seconds
        start = end - step["seconds"]
        inside = [s for s in samples if start < s["t"] <= end]
        if inside:
            groups = inside[0]["cores"]
            result[step["users"]] = {
                group: sum(s["cores"][group] for s in inside) / len(inside) for group in groups
            } | {"load": sum(s["load"] for s in inside) / len(inside)}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--step-users", type=int, action="append")
    args = parser.parse_args()
    report = json.loads(args.report.read_text())
    cpu_file = args.report.with_name(args.report.name.replace("report-", "cpu-")).with_suffix(
        ".jsonl"
    )
    samples = (
        [json.loads(line) for line in cpu_file.read_text().splitlines() if line.strip()]
        if cpu_file.is_file()
        else []
    )
    print(row(["users", "req/s", "errors", "all p50/p95/p99 ms", "pages p95", "fast p95"]))
    print(row(["---"] * 6))
    for step in report["steps"]:
        a, p, f = step["all"], step["pages"], step["fast"]
        print(
            row(
                [
                    step["users"],
                    a["rps"],
                    a["errors"],
                    f"{ms(a['p50'])} / {ms(a['p95'])} / {ms(a['p99'])}",
                    ms(p["p95"]),
                    ms(f["p95"]),
                ]
            )
        )
    print(f"\np95 over 1 s from: {report['p95_over_1s_at_users']}")
    print(f"errors in the whole run: {report['errors_total']} of {report['requests_total']}\n")
    shares = cpu_per_step(samples, report)
    if shares:
        groups = [g for g in next(iter(shares.values())) if g != "load"]
        print(row(["users", "load avg", *groups]))
        print(row(["---"] * (len(groups) + 2)))
        for users, share in shares.items():
            print(row([users, f"{share['load']:.1f}", *(f"{share[g]:.2f}" for g in groups)]))
        print()
    for users in args.step_users or [report["steps"][-1]["users"]]:
        step = next((s for s in report["steps"] if s["users"] == users), None)
        if step is None:
            continue
        print(f"\n{users} users ({step['seconds']} s steady):\n")
        print(row(["request", "n", "req/s", "p50", "p95", "p99", "errors"]))
        print(row(["---"] * 7))
        for name, s in step["by_name"].items():
            print(
                row(
                    [
                        name,
                        s["requests"],
                        s["rps"],
                        ms(s["p50"]),
                        ms(s["p95"]),
                        ms(s["p99"]),
                        s["errors"],
                    ]
                )
            )


if __name__ == "__main__":
    main()
