"""How fast does `reviewmon poll` ingest a file source, and what is the floor?

For each N, makes N synthetic reviews as a JSON Lines file, then times, in the same run:
- poll:  `reviewmon migrate` then `reviewmon poll` into a fresh database (a subprocess,
         start-up included), and its peak memory (max RSS);
- floor: VADER scoring the same texts in one process plus a bare sqlite3 `executemany`
         of the same rows into a table of the same columns;
- ratio: poll / floor.

    .venv/bin/python bench/ingest.py                      # 1k, 10k, 20k, 100k on SQLite
    .venv/bin/python bench/ingest.py --sizes 20000 --postgres postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import write_reviews  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REVIEWMON = [sys.executable, "-m", "service"]


def floor_seconds(path: Path, folder: Path) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    started = time.perf_counter()
    analyzer = SentimentIntensityAnalyzer()
    scores = [analyzer.polarity_scores(" ".join(filter(None, (r.get("title"), r["text"]))))["compound"] for r in rows]
    connection = sqlite3.connect(folder / "floor.db")
    connection.execute("CREATE TABLE reviews (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, rating INT, title TEXT,"
                       " text TEXT, author TEXT, location TEXT, created_at TEXT, compound REAL)")
    connection.executemany(
        "INSERT INTO reviews (external_id, rating, title, text, author, location, created_at, compound) VALUES (?,?,?,?,?,?,?,?)",
        [(r["id"], r["rating"], r.get("title"), r["text"], r["author"], r["location"], r["created_at"], s) for r, s in zip(rows, scores)],
    )
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def poll_seconds(path: Path, folder: Path, database_url: str) -> tuple[float, float, str]:
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n\n[business]\nname = "Bench Bistro"\ncontact = "hi@bench.example"\n\n'
        f'[[sources]]\nname = "bench"\ntype = "file"\npath = "{path}"\n',
        encoding="utf-8",
    )
    subprocess.run([*REVIEWMON, "--config", str(config), "migrate"], check=True, capture_output=True, cwd=ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([*REVIEWMON, "--config", str(config), "poll", "--verbose"], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"poll failed: {done.stderr}")
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return seconds, peak_mb, done.stdout.strip()


def postgres_database(admin_url: str) -> tuple[str, callable]:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url)
    with engine.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,20000,100000")
    parser.add_argument("--postgres", metavar="URL", help="also poll into this PostgreSQL (a throw-away schema)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    args = parser.parse_args()
    say = (lambda *a, **k: None) if args.json else print
    say(f"# ingest benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    say(f"{'backend':<10} {'reviews':>8} {'poll s':>8} {'rev/s':>8} {'floor s':>8} {'ratio':>6} {'peak MB':>8}")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            path = write_reviews(folder / "reviews.jsonl", size)
            floor = floor_seconds(path, folder)
            backends = [("sqlite", f"sqlite:///{folder / 'reviewmon.db'}", lambda: None)]
            if args.postgres:
                backends.append(("postgres", *postgres_database(args.postgres)))
            for name, url, cleanup in backends:
                try:
                    seconds, peak, _ = poll_seconds(path, folder, url)
                finally:
                    cleanup()
                say(f"{name:<10} {size:>8} {seconds:>8.2f} {size / seconds:>8.0f} {floor:>8.2f} {seconds / floor:>6.2f} {peak:>8.0f}", flush=True)
                rows.append({"backend": name, "reviews": size, "poll_s": round(seconds, 2), "floor_s": round(floor, 2),
                             "ratio": round(seconds / floor, 2), "peak_mb": round(peak)})
    if args.json:
        print(json.dumps({"rows": rows}, indent=2))


if __name__ == "__main__":
    main()
