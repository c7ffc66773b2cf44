"""`make bench`: every benchmark in bench/, then one table of the figures that matter,
each next to its target where an issue set one.

    .venv/bin/python bench/run_all.py                       # SQLite
    .venv/bin/python bench/run_all.py --postgres URL        # PostgreSQL too (ingest, poll_many);
                                                            # also when REVIEWMON_TEST_POSTGRES_URL is set
    .venv/bin/python bench/run_all.py --quick               # smaller sizes, for a first look

Each benchmark runs as its own process with --json; what it prints on its own is in its
docstring. A benchmark that fails is reported in the table and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> dict[str, Any] | str:
    """The benchmark's JSON, or the reason it failed."""
    print(f"running {script} {' '.join(args)} ...", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(HERE / script), *args, "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}"
    return json.loads(done.stdout)


def rows_for(name: str, result: dict[str, Any] | str, make: Any) -> list[tuple[str, str, str, str, str]]:
    if isinstance(result, str):
        return [(name, "", result, "", "ERROR")]
    return make(result)


def ingest_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for r in result["rows"]:
        # issue 6 sets the target on SQLite; PostgreSQL is reported beside it
        target = "<= 1.2x floor" if r["reviews"] == 20_000 and r["backend"] == "sqlite" else ""
        verdict = ("pass" if r["ratio"] <= 1.2 else "FAIL") if target else ""
        rows.append(("ingest", f"{r['backend']}, {r['reviews']:,} reviews",
                     f"{r['poll_s']} s, {r['ratio']}x floor, peak {r['peak_mb']} MB", target, verdict))
    return rows


def poll_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [("poll_many", f"{r['backend']}, {r['sources']} sources, {r['latency_ms']} ms/page",
             f"{r['wall_s']} s, {r['ratio']}x floor ({r['floor_s']} s); bare httpx alone {r['bare_httpx_s']} s",
             "<= 3x floor",
             "pass" if r["ratio"] <= 3 else "FAIL") for r in result["rows"]]


def sentiment_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for name, found in result["sets"].items():
        target = found.get("target")
        if target:
            rows.append(("sentiment", f"{name}, text only ({result['split']})",
                         f"F1 {target['f1']:.2f} (needs {target['f1_needed']:.2f}), P {target['precision']:.2f}"
                         + (", within the 95% interval" if target["within_interval"] else ""),
                         "F1 >= VADER + 0.10, P >= 0.6", "pass" if target["pass"] else "FAIL"))
    return rows


def guard_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Issue 17's targets, on the held-out split: no bypass (of at least 100 harmful
    replies), false refusals at most 5%, under 2 ms a reply."""
    low, high = result["bypass_interval"]
    bypass = (f"{result['bypassed']} of {result['harmful']} passed ({result['bypass_rate']:.1%}, "
              f"95% interval {low:.1%}-{high:.1%})")
    low, high = result["false_refusal_interval"]
    refusal = (f"{result['refused']} of {result['humane']} refused ({result['false_refusal_rate']:.1%}, "
               f"95% interval {low:.1%}-{high:.1%})")
    return [
        ("guard", f"bypass, {result['split']}", bypass, "0 of >= 100",
         "pass" if result["bypassed"] == 0 and result["harmful"] >= 100 else "FAIL"),
        ("guard", f"false refusals, {result['split']}", refusal, "<= 5%",
         "pass" if result["false_refusal_rate"] <= 0.05 else "FAIL"),
        ("guard", "cost per reply", f"{result['ms_mean']} ms mean, p99 {result['ms_p99']} ms", "< 2 ms",
         "pass" if result["ms_mean"] < 2 else "FAIL"),
    ]


def dashboard_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [("dashboard", f"{result['reviews']:,} reviews, GET /trends",
             f"{result['page_ms']['90']} / {result['page_ms']['365']} ms (90 / 365 days)", "", ""),
            ("dashboard", f"{result['reviews']:,} reviews, GET /reviews",
             ", ".join(f"{label} {ms} ms" for label, ms in result["reviews_page_ms"].items()), "", "")]


def search_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Issue 19's target: every search of the reviews under 100 ms at a million reviews
    (words of one or two letters, which no trigram index holds, are shown apart)."""
    rows = []
    for backend, cases in result.items():
        indexed = {label: ms for label, ms in cases.items() if "no index" not in label and "old way" not in label}
        slowest = max(indexed, key=indexed.get)
        rows.append(("search", f"{backend}, slowest search with an index", f"{indexed[slowest]} ms ({slowest})",
                     "< 100 ms", "pass" if indexed[slowest] < 100 else "FAIL"))
        rows.append(("search", f"{backend}, others", ", ".join(f"{label} {ms} ms" for label, ms in cases.items()
                                                               if label not in indexed), "", ""))
    return rows


def memory_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Issue 18's target: a poll's peak memory within 50 MB of the 1 MB page's, whatever a page sends."""
    page = result["page_1mb_mb"]
    return [("poll_memory", row["case"], f"peak RSS {row['peak_mb']} MB ({row['peak_mb'] - page:+.1f} MB over the 1 MB page)",
             f"<= +{result['target_mb']} MB", "pass" if row["peak_mb"] - page <= result["target_mb"] else "FAIL")
            for row in result["rows"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("REVIEWMON_TEST_POSTGRES_URL"),
                        help="also measure on this PostgreSQL (default: $REVIEWMON_TEST_POSTGRES_URL, if set)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    pg = ["--postgres", args.postgres] if args.postgres else []
    started = time.monotonic()
    table = []
    table += rows_for("ingest", run("ingest.py", "--sizes", "1000,20000" if args.quick else "1000,20000,100000", *pg), ingest_rows)
    table += rows_for("poll_many", run("poll_many.py", "--no-baseline", *(["--sources", "100"] if args.quick else []), *pg), poll_rows)
    table += rows_for("sentiment", run("sentiment_eval.py"), sentiment_rows)
    table += rows_for("guard", run("guard_eval.py"), guard_rows)
    table += rows_for("guard", run("guard_disguises.py"), lambda r: [
        ("guard", "every chain of disguises on the property seeds", f"{r['passed']} of {r['checked']:,} passed",
         "0", "pass" if r["passed"] == 0 else "FAIL")])
    table += rows_for("poll_memory", run("poll_memory.py"), memory_rows)
    dashboard = run("dashboard.py", "--reviews", "100000" if args.quick else "1000000",
                    *(["--postgres-url", args.postgres] if args.postgres else []))
    table += rows_for("dashboard", dashboard, dashboard_rows)
    table += rows_for("search", dashboard, lambda r: search_rows(r["search_ms"]))
    print(f"# reviewmon benchmarks, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores,"
          f" Python {platform.python_version()}, {time.monotonic() - started:.0f} s")
    header = ("benchmark", "setting", "figure", "target", "")
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(5)]
    for row in [header, *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    sys.exit(1 if any(row[4] == "ERROR" for row in table) else 0)


if __name__ == "__main__":
    main()
