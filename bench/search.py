"""How fast is a search of the reviews at a million of them? (issue 19)

Builds the synthetic million reviews of bench/dashboard.py in SQLite (and, with
--postgres-url or REVIEWMON_TEST_POSTGRES_URL, copies them into a fresh PostgreSQL
schema), marks 25 of them with a rare word, and times service.desk.queries.review_rows,
which the reviews page, its CSV export and `reviewmon reviews list --search` all call
(median of 7 runs):

- a page (50 rows, newest first) for a word no review holds, a rare word, words in 0.45%
  and 0.9% of the reviews (either side of where service/desk/search.py stops sorting the
  index's matches and reads the newest reviews instead), a word in a fifth of the
  reviews, two such words, and a two-letter word (too short for a trigram index: read
  row by row);
- the CSV export's whole answer for the rare word, and its first row for the common one;
- the old way (LIKE over every review) for the word found nowhere, for comparison.

    .venv/bin/python bench/search.py                        # 1,000,000 reviews
    .venv/bin/python bench/search.py --reviews 100000 --db /tmp/search.db
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from service import db  # noqa: E402
from service.desk import queries  # noqa: E402
from service.models import Review  # noqa: E402

RUNS = 7
RARE = "zanzibar"
MARKED = 25
# words held by a share of the reviews just under and just over search.COMMON_SHARE (0.5%):
# the most matches that are sorted, and the sparsest that are read newest first
MIDDLING = {"marmalade": 0.0045, "marzipan": 0.009}
PAGE = 50
CASES = {  # label: (words, rows wanted: a page, or None for every row)
    "page, a word found nowhere": ("zeppelin", PAGE),
    f"page, a rare word ({MARKED} reviews)": (RARE, PAGE),
    **{f"page, a word in {share:.2%} of reviews": (word, PAGE) for word, share in MIDDLING.items()},
    "page, a word in many reviews": ("cold", PAGE),
    "page, two words in many reviews": ("soup cold", PAGE),
    "page, a two-letter word (no index)": ("wa", PAGE),
    "export, the rare word, every row": (RARE, None),
    "export, the common word, first row": ("cold", 1),
}
COPIED = ["sources", "reviews", "sentiments"]


def mark_rare(path: Path) -> None:
    """A rare word in MARKED reviews and the MIDDLING words, each spread over the whole period."""
    with sqlite3.connect(path) as connection:
        top = connection.execute("SELECT max(id) FROM reviews").fetchone()[0]
        for word, count in ((RARE, MARKED), *((word, int(top * share)) for word, share in MIDDLING.items())):
            step = max(1, top // count)
            connection.executemany("UPDATE reviews SET text = text || ? WHERE id = ?",
                                   [(f" {word.capitalize()} was mentioned.", n) for n in range(1, top + 1, step)][:count])


def copy_to_postgres(path: Path, url: str) -> tuple[str, sa.Engine]:
    """A fresh schema migrated by alembic, filled with COPY from the SQLite file."""
    schema = f"bench_search_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = db.make_engine(sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
                            .render_as_string(hide_password=False))
    db.migrate(engine)
    source = sqlite3.connect(path)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in COPIED:
            columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
            kinds = {row[1]: row[2] for row in source.execute(f"PRAGMA table_info({table})")}
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                    copy.write_row([bool(v) if kinds[c] == "BOOLEAN" and v is not None else v
                                    for c, v in zip(columns, row)])
        cursor.execute("SELECT setval(pg_get_serial_sequence('reviews', 'id'), (SELECT max(id) FROM reviews))")
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        source.close()
    admin.dispose()
    return schema, engine


def time_cases(engine: sa.Engine) -> dict[str, tuple[float, int]]:
    results = {}
    with Session(engine) as session:
        for label, (words, wanted) in CASES.items():
            def run(words: str = words, wanted: int | None = wanted) -> int:
                rows = queries.review_rows(session, search=words, limit=wanted)
                return sum(1 for _ in rows)
            run()
            samples, count = [], 0
            for _ in range(RUNS):
                started = time.perf_counter()
                count = run()
                samples.append((time.perf_counter() - started) * 1000)
            results[label] = (statistics.median(samples), count)
        old = select(Review.id).where(sa.or_(col(Review.text).icontains("zeppelin"), col(Review.title).icontains("zeppelin")))
        started = time.perf_counter()
        session.exec(old.limit(PAGE)).all()
        results["the old way (LIKE over every review), a word found nowhere"] = ((time.perf_counter() - started) * 1000, 0)
    return results


def measure(path: Path, postgres_url: str | None) -> dict[str, dict[str, tuple[float, int]]]:
    """The figures on the SQLite database at `path` (marked by mark_rare) and, given a URL,
    on a copy of it in PostgreSQL."""
    figures = {}
    engine = db.make_engine(f"sqlite:///{path}")
    figures["sqlite"] = time_cases(engine)
    engine.dispose()
    if postgres_url:
        started = time.perf_counter()
        schema, engine = copy_to_postgres(path, postgres_url)
        print(f"# copied to PostgreSQL in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        try:
            figures["postgresql"] = time_cases(engine)
        finally:
            engine.dispose()
            admin = sa.create_engine(postgres_url)
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
    return figures


def print_figures(figures: dict[str, dict[str, tuple[float, int]]]) -> None:
    for name, cases in figures.items():
        for label, (ms, count) in cases.items():
            print(f"{'search, ' + name:18} {label:60} {ms:9.1f} ms  ({count} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="build the SQLite database here, or reuse it if it exists")
    parser.add_argument("--postgres-url", default=os.environ.get("REVIEWMON_TEST_POSTGRES_URL"),
                        help="also time PostgreSQL, in a new schema of this database (dropped afterwards)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    end = datetime.now(timezone.utc).date() - timedelta(days=1)
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "search.db"
        if not path.exists():
            from dashboard import build  # dashboard.py runs this bench too: imported when needed

            started = time.perf_counter()
            build(path, args.reviews, end=end)
            mark_rare(path)
            print(f"# built {args.reviews:,} reviews in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        figures = measure(path, args.postgres_url)
    if args.json:
        print(json.dumps({name: {label: round(ms, 1) for label, (ms, _n) in cases.items()}
                          for name, cases in figures.items()}, indent=2))
        return
    print(f"# review search, {time.strftime('%Y-%m-%d')}, {args.reviews:,} reviews, median of {RUNS} runs")
    print_figures(figures)


if __name__ == "__main__":
    main()
