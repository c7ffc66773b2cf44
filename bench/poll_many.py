"""Are many slow sources polled in parallel? `reviewmon poll --all` over 500 App Store
sources on a simulated platform (tests/platform_sim.py) that answers every page after
200 ms, against the latency floor (issue 5).

Each source is one app with a few short pages (default 4 pages of 2 reviews): the work
per page is kept small on purpose, so the wall time is about waiting, not about scoring
and storing. Pages of one source come one after another (the next page is known only
from the last one); sources can all wait at the same time. So the floor is

    floor = max over sources of (requests of that source x latency)

where a source's requests are its pages plus the empty page that ends the feed (5 for 4
pages), raised if `[poll] per_host` or `concurrency` cannot keep every source busy at
once. `[poll] per_host` is at most 100, so the apps are spread over several loopback
addresses (127.0.0.1, .2, ...; --hosts), at most `per_host` apps each: one host would
cap the run at 100 requests at a time, whatever the poller does. A poller that polls
one source at a time needs sources x requests x latency (500 s with the defaults).

It runs, on a fresh database each time: `reviewmon migrate`, then (timed, start-up
included) `reviewmon --config X poll --all` in a subprocess (plain `poll` where there is
no --all: on a fresh database every source is due). Then it checks the run: the reviews
stored equal the reviews the platform served, each app was asked for each of its pages
exactly once, and no app ever had two requests in flight at once. Columns:

    peak    the most requests the platform had in flight at one moment
    cpu s   CPU time of the poll process (user + system, all its threads)
    httpx s the same requests made by bare httpx and nothing else (bench/bare_httpx.py:
            one client per source, over as many processes as cores, start-up excluded),
            against the same platform right after the poll: the HTTP client's own cost,
            which no poller built on httpx goes under on this machine
    0 ms s  the same poll with no latency at all: the work a parallel poller cannot hide;
            one that overlaps its waiting well takes about max(floor, 0 ms s)

The platform runs in this process (a thread), on the same cores as the poller;
"platform_cpu_s" in --json is what it spent.

    .venv/bin/python bench/poll_many.py                               # 500 sources x 4 pages, 200 ms
    .venv/bin/python bench/poll_many.py --sources 100 --latency 50 --no-baseline
    .venv/bin/python bench/poll_many.py --postgres postgresql+psycopg://postgres@127.0.0.1/test --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from ingest import postgres_database

from tests.platform_sim import PlatformSim

REVIEWMON = [sys.executable, "-m", "service"]
MAX_PER_HOST = 100  # service/config.py PollConfig.per_host


def write_config(folder: Path, database_url: str, sim: PlatformSim, *, concurrency: int, per_host: int) -> Path:
    lines = [
        "[database]", f"url = {json.dumps(database_url)}", "",
        "[business]", 'name = "Bench Apps"', 'contact = "hi@bench.example"', "",
        "[poll]", f"concurrency = {concurrency}", f"per_host = {per_host}", "",
    ]
    for source in sim.sources():
        lines.append("[[sources]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
        lines.append("")
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def poll_command(config: Path) -> list[str]:
    """`poll --all` where the CLI has it (poll every enabled source, due or not)."""
    helptext = subprocess.run([*REVIEWMON, "--config", str(config), "poll", "--help"], check=False, capture_output=True, text=True, cwd=ROOT).stdout
    return [*REVIEWMON, "--config", str(config), "poll", "--verbose", *(["--all"] if "--all" in helptext else [])]


def stored_reviews(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM reviews")).scalar_one()
    finally:
        engine.dispose()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_httpx(sim: PlatformSim) -> dict[str, Any]:
    """The poll's requests, made by bare httpx in a subprocess (see bench/bare_httpx.py)."""
    chains = [[sim.apps[a].page_url(n) for n in range(1, sim.requests_per_poll(a) + 1)] for a in sim.app_ids]
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bare_httpx.py")], input=json.dumps(chains),
                          check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout)


def floor_seconds(sim: PlatformSim, latency: float, *, concurrency: int, per_host: int) -> float:
    chains = [sim.requests_per_poll(a) for a in sim.app_ids]
    floor = max(chains) * latency
    floor = max(floor, sum(chains) / min(concurrency, len(chains)) * latency)  # sources at once
    by_host: dict[str, int] = {}
    for app_id, requests in zip(sim.app_ids, chains):
        by_host[sim.apps[app_id].base_url] = by_host.get(sim.apps[app_id].base_url, 0) + requests
    return max(floor, max(math.ceil(n / per_host) for n in by_host.values()) * latency)  # requests per host at once


def run(args: argparse.Namespace, backend: str, database_url: str, latency: float) -> dict[str, Any]:
    """One fresh database, one timed poll; checks what the platform saw."""
    hosts = args.hosts or math.ceil(args.sources / args.per_host)
    with tempfile.TemporaryDirectory() as tmp, PlatformSim(
        args.sources, pages=args.pages, per_page=args.per_page, latency=latency, seed=args.seed, hosts=hosts,
    ) as sim:
        folder = Path(tmp)
        url = database_url.replace("{folder}", str(folder))
        config = write_config(folder, url, sim, concurrency=args.concurrency, per_host=args.per_host)
        subprocess.run([*REVIEWMON, "--config", str(config), "migrate"], check=True, capture_output=True, cwd=ROOT)
        command = poll_command(config)
        sim.reset_stats()
        started, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
        done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT)
        seconds, cpu, child = time.perf_counter() - started, time.process_time() - cpu, children_cpu() - child
        if done.returncode != 0:
            raise SystemExit(f"poll failed ({done.returncode}): {done.stderr[-3000:]}")
        stats = sim.stats()
        stored, served = stored_reviews(url), sim.served()
        problems = []
        if stored != served:
            problems.append(f"stored {stored} reviews, the platform served {served}")
        wrong = [a for a in sim.app_ids if stats["apps"][a]["hits"] != sim.requests_per_poll(a) or stats["apps"][a]["polls"] != 1]
        if wrong:
            problems.append(f"{len(wrong)} apps were not read exactly once, page by page (e.g. {wrong[0]}: {stats['apps'][wrong[0]]['pages']})")
        if stats["overlapping"]:
            problems.append(f"{len(stats['overlapping'])} apps had two requests in flight at once")
        floor = floor_seconds(sim, latency, concurrency=args.concurrency, per_host=args.per_host)
        bare = bare_httpx(sim)
        return {
            "backend": backend, "sources": args.sources, "pages": args.pages, "per_page": args.per_page,
            "latency_ms": round(latency * 1000), "requests": stats["requests"], "hosts": hosts,
            "concurrency": args.concurrency, "per_host": args.per_host, "all_flag": "--all" in command,
            "wall_s": round(seconds, 2), "floor_s": round(floor, 2), "ratio": round(seconds / floor, 2) if floor else None,
            "peak_in_flight": stats["max_in_flight"], "poll_cpu_s": round(child, 2),
            "bare_httpx_s": bare["wall_s"], "bare_httpx_cpu_s": bare["cpu_s"], "platform_cpu_s": round(cpu, 2), "reviews": stored, "served": served, "problems": problems,
        }


def timed(args: argparse.Namespace, backend: str, fresh: Any, latency: float) -> dict[str, Any]:
    url, cleanup = fresh()
    try:
        return run(args, backend, url, latency)
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=500, help="apps on the simulated platform, one source each")
    parser.add_argument("--pages", type=int, default=4, help="pages of reviews per source (at most 10)")
    parser.add_argument("--per-page", type=int, default=2, help="reviews per page")
    parser.add_argument("--latency", type=float, default=200, metavar="MS", help="milliseconds the platform waits before each answer")
    parser.add_argument("--concurrency", type=int, help="[poll] concurrency (default: --sources, at most 1000)")
    parser.add_argument("--per-host", type=int, default=MAX_PER_HOST, help="[poll] per_host (at most 100)")
    parser.add_argument("--hosts", type=int, help="loopback addresses to spread the apps over (default: sources / per-host)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip timing the same poll with no latency")
    parser.add_argument("--postgres", metavar="URL", help="also poll into this PostgreSQL (a throw-away schema)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args()
    args.concurrency = args.concurrency or min(args.sources, 1000)
    header = {"benchmark": "poll_many", "date": time.strftime("%Y-%m-%d"), "machine": platform.machine(),
              "cores": os.cpu_count(), "python": platform.python_version()}
    if not args.json:
        print(f"# poll-many benchmark, {header['date']}, {header['machine']}, {header['cores']} cores, Python {header['python']}")
        print(f"{'backend':<9} {'sources':>7} {'pages':>5} {'/page':>5} {'lat ms':>6} {'requests':>8} {'wall s':>7} "
              f"{'floor s':>7} {'ratio':>6} {'peak':>5} {'cpu s':>6} {'httpx s':>7} {'0 ms s':>7} {'reviews':>8}  check", flush=True)
    backends = [("sqlite", lambda: ("sqlite:///{folder}/reviewmon.db", lambda: None))]  # a new folder each run
    if args.postgres:
        backends.append(("postgres", lambda: postgres_database(args.postgres)))  # a new schema each run
    rows, failed = [], False
    for backend, fresh in backends:
        row = timed(args, backend, fresh, args.latency / 1000)
        if args.baseline:
            row["zero_latency_s"] = timed(args, backend, fresh, 0.0)["wall_s"]
        rows.append(row)
        failed = failed or bool(row["problems"])
        if not args.json:
            zero = f"{row['zero_latency_s']:>7.2f}" if "zero_latency_s" in row else f"{'-':>7}"
            print(f"{backend:<9} {row['sources']:>7} {row['pages']:>5} {row['per_page']:>5} {row['latency_ms']:>6} {row['requests']:>8} "
                  f"{row['wall_s']:>7.2f} {row['floor_s']:>7.2f} {row['ratio'] or 0:>6.2f} {row['peak_in_flight']:>5} {row['poll_cpu_s']:>6.1f} {row['bare_httpx_s']:>7.2f} {zero} "
                  f"{row['reviews']:>8}  {'; '.join(row['problems']) or 'ok'}", flush=True)
    if args.json:
        print(json.dumps({**header, "rows": rows}, indent=2))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
