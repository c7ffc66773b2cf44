"""How fast is the trends dashboard over a million reviews?

Builds a SQLite database of N synthetic reviews (default 1,000,000) straight into the
tables (not through the poller): five sources, five locations, every star rating, dates
over the last two years, sentiment rows, owner replies on the platform, drafts in every
status and posted replies with their posting time, a few removed reviews. Then times, for
a 90-day and a 365-day period (median of 7 runs each):

- report():        service.trends.reports.report(), by week, all sources: what the dashboard calls;
- its SQL:         the four queries report() runs on the trend tables, rows fetched, no Python;
- plain GROUP BY:  the same weekly figures straight from reviews, sentiments and drafts
                   (what report() would cost without the trend tables);

the reviews list pages (GET /reviews: newest first, filtered, searched), every kind of
search (bench/search.py: words found nowhere, rarely, sometimes, often; on SQLite and,
with --postgres-url or REVIEWMON_TEST_POSTGRES_URL, on a copy in PostgreSQL), and what keeping
the trend tables up to date costs: the first refresh after the bulk load
(a full rebuild), a refresh after a typical poll, and one after the [topics] keywords change.

    .venv/bin/python bench/dashboard.py                     # 1,000,000 reviews, a new database
    .venv/bin/python bench/dashboard.py --reviews 100000 --db /tmp/dash.db   # keep and reuse the database
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import case, func, or_, select  # noqa: E402
from sqlmodel import Session  # noqa: E402
import search as search_bench  # noqa: E402
from synthetic import review_text  # noqa: E402

from service import db
from service.config import DEFAULT_TOPICS  # noqa: E402
from service.desk.queries import written_at  # noqa: E402
from service.models import Draft, Review, Sentiment  # noqa: E402
from service.trends import reports, rollups  # noqa: E402

RUNS = 7
SOURCES = [  # name, type, share of reviews, its reviews carry a location, the platform gives a creation time
    ("google", "google", 40, True, True),
    ("tripadvisor", "tripadvisor", 20, True, True),
    ("trustpilot", "trustpilot", 15, False, True),
    ("app", "appstoreconnect", 10, False, True),
    ("play", "googleplay", 15, False, False),
]
LOCATIONS = ["Harbour Front", "Old Town", "Airport", "Station", "Riverside"]
DRAFT_STATUSES = (["posted"] * 45 + ["outdated"] * 5 + ["approved"] * 10 + ["rejected"] * 10 + ["drafted"] * 30)
TEXTS_PER_RATING = 4000  # a pool of synthetic texts, reused: generating a million takes longer than the bench


def stamp(moment: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (naive UTC text)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, count: int, *, end: date, seed: int = 11) -> float:
    """Create and fill the database; returns the seconds it took."""
    started = time.perf_counter()
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    engine.dispose()
    rng = random.Random(seed)
    texts = {stars: [review_text(rng, stars) for _ in range(TEXTS_PER_RATING)] for stars in range(1, 6)}
    first = datetime.combine(end - timedelta(days=730), datetime.min.time(), timezone.utc)
    span = 730 * 86400
    now = stamp(datetime.combine(end, datetime.min.time(), timezone.utc))
    connection = sqlite3.connect(path)
    connection.executemany(
        "INSERT INTO sources (id, name, type, created_at, failure_count, status) VALUES (?, ?, ?, ?, 0, 'ok')",
        [(n, name, kind, now) for n, (name, kind, *_rest) in enumerate(SOURCES, start=1)],
    )
    weights = [share for _n, _k, share, *_rest in SOURCES]
    reviews, sentiments, drafts = [], [], []
    for review_id in range(1, count + 1):
        source = rng.choices(range(len(SOURCES)), weights)[0]
        _name, _kind, _share, located, created_known = SOURCES[source]
        stars = rng.choices([1, 2, 3, 4, 5], weights=[15, 10, 10, 20, 45])[0]
        written = first + timedelta(seconds=rng.randrange(span))
        negative = stars <= 2 or (stars == 3 and rng.random() < 0.5) or rng.random() < 0.02
        owner_reply = "Thank you for your review." if rng.random() < 0.08 else None
        removed = stamp(written + timedelta(days=3)) if rng.random() < 0.01 else None
        reviews.append((
            review_id, source + 1, f"r{review_id}", stars, rng.choice(["Dinner", "Lunch", None, None]),
            rng.choice(texts[stars]), rng.choice(["Ana", "Tom B.", "Liam", "Priya", None]),
            rng.choice(LOCATIONS) if located else None, stamp(written) if created_known else None, stamp(written),
            owner_reply, "x", stamp(written + timedelta(minutes=20)), now, removed,
        ))
        sentiments.append((review_id, -0.6 if negative else 0.6, negative, "en", "synthetic", now))
        if negative and owner_reply is None:
            status = rng.choice(DRAFT_STATUSES)
            posted = stamp(written + timedelta(hours=rng.lognormvariate(3, 1))) if status in ("posted", "outdated") else None
            drafts.append((review_id, review_id, status, "Sorry to read this.", True, "[]", now, now, posted))
        if len(reviews) >= 50_000:
            _insert(connection, reviews, sentiments, drafts)
            reviews, sentiments, drafts = [], [], []
    _insert(connection, reviews, sentiments, drafts)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    return time.perf_counter() - started


def _insert(connection: sqlite3.Connection, reviews: list, sentiments: list, drafts: list) -> None:
    connection.executemany(
        "INSERT INTO reviews (id, source_id, external_id, rating, title, text, author, location, created_at, updated_at,"
        " owner_reply, fingerprint, first_seen_at, changed_at, removed_at, excerpt) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", reviews)
    connection.executemany(
        "INSERT INTO sentiments (review_id, compound, negative, language, reason, scored_at) VALUES (?, ?, ?, ?, ?, ?)",
        sentiments)
    connection.executemany(
        "INSERT INTO drafts (id, review_id, status, text, policy_ok, policy_problems, created_at, updated_at, posted_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", drafts)


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def trend_sql(session: Session, start: date, end: date) -> None:
    """The queries report() runs on the trend tables, rows fetched and nothing else."""
    for statement in reports.report_statements(start, end):
        session.exec(statement).all()


def plain_group_by(session: Session, start: date, end: date) -> None:
    """Weekly volume, mean rating, negatives and responses straight from the base tables
    (no medians, no topics, no previous period: a lower bound of that approach)."""
    written = written_at()
    week = func.date(written, "weekday 0", "-6 days")
    low = datetime.combine(start, datetime.min.time(), timezone.utc)
    high = datetime.combine(end + timedelta(days=1), datetime.min.time(), timezone.utc)
    responded = or_(Review.owner_reply.is_not(None), Draft.status.in_(rollups.ANSWERED))
    session.exec(
        select(week, func.count(), func.avg(Review.rating), func.sum(case((Sentiment.negative, 1), else_=0)),
               func.sum(case((responded, 1), else_=0)))
        .select_from(Review)
        .outerjoin(Sentiment, Sentiment.review_id == Review.id)
        .outerjoin(Draft, Draft.review_id == Review.id)
        .where(Review.removed_at.is_(None), written >= low, written < high)
        .group_by(week)
    ).all()


def simulate_poll(engine, end: date, count: int = 500, posted: int = 50) -> None:
    """What a poll and an owner's morning change: new reviews, and replies posted."""
    now = datetime.combine(end, datetime.min.time(), timezone.utc)
    rng = random.Random(5)
    with engine.begin() as connection:
        top = connection.exec_driver_sql("SELECT max(id) FROM reviews").scalar_one()
        for n in range(1, count + 1):
            written = now - timedelta(minutes=rng.randrange(1, 2000))
            stars = rng.choice([1, 2, 5])
            connection.exec_driver_sql(
                "INSERT INTO reviews (id, source_id, external_id, rating, text, location, created_at, fingerprint,"
                " first_seen_at, changed_at, excerpt) VALUES (?, 1, ?, ?, ?, 'Old Town', ?, 'x', ?, ?, 0)",
                (top + n, f"new{top + n}", stars, review_text(rng, stars), stamp(written), stamp(now), stamp(now)))
            connection.exec_driver_sql(
                "INSERT INTO sentiments (review_id, negative, reason, scored_at) VALUES (?, ?, 'x', ?)",
                (top + n, stars <= 2, stamp(now)))
        connection.exec_driver_sql(
            f"UPDATE drafts SET status = 'posted', posted_at = ? WHERE id IN"
            f" (SELECT id FROM drafts WHERE status = 'approved' LIMIT {posted})", (stamp(now),))


def machine() -> str:
    """The CPU model and core count, as far as the system tells."""
    model = platform.processor() or platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()}"


def time_reports(engine, end: date) -> dict[int, tuple[int, float, float, float]]:
    """days -> (reviews in the period, report() ms, its SQL ms, plain GROUP BY ms)."""
    rows = {}
    for days in (90, 365):
        start = end - timedelta(days=days - 1)

        def load() -> reports.TrendReport:
            with db.session_scope(engine) as session:
                return reports.report(session, start=start, end=end, bucket="week", topics=DEFAULT_TOPICS)

        reviews = load().totals.reviews  # also warms the page cache, as a dashboard in use has it
        with Session(engine) as session:
            rows[days] = (
                reviews,
                median_ms(load),
                median_ms(lambda: trend_sql(session, start, end)),
                median_ms(lambda: plain_group_by(session, start, end), runs=3),
            )
    return rows


REVIEW_PAGES = {  # the reviews pages a reader opens (service/web/routes_reviews.py), first page of 50
    "newest first": "/reviews",
    "negative only": "/reviews?flag=negative",
    "one source": "/reviews?source=trustpilot",
    "words found often": "/reviews?q=cold",
    "words found nowhere": "/reviews?q=zeppelin",
}


def page_ms(path: Path, end: date) -> tuple[dict[int, float], dict[str, float]]:
    """Whole pages as a browser gets them, through the web app, logged in (session check,
    queries, filter menus, template), median of RUNS loads: the dashboard (GET /trends)
    for 90 and 365 days, and the reviews list (REVIEW_PAGES)."""
    import asyncio
    import re

    import httpx

    from service import config as config_module
    from service.context import Context
    from service.desk import users
    from service.web import create_app

    ctx = Context(config=config_module.parse({"database": {"url": f"sqlite:///{path}"},
                                              "business": {"name": "Bench", "contact": "hi@bench.example"}}),
                  engine=db.make_engine(f"sqlite:///{path}"))
    if users.actor_named(ctx, "bench") is None:
        users.add_user(ctx, "bench", "marketer", "bench-password-1")

    async def run() -> tuple[dict[int, float], dict[str, float]]:
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get("/login")).text).group(1)
            await client.post("/login", data={"username": "bench", "password": "bench-password-1", "csrf_token": token})

            async def median_page_ms(url: str) -> float:
                assert (await client.get(url)).status_code == 200
                samples = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    response = await client.get(url)
                    samples.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                return statistics.median(samples)

            trends_pages = {days: await median_page_ms(f"/trends?from={end - timedelta(days=days - 1)}&to={end}&bucket=week")
                            for days in (90, 365)}
            return trends_pages, {label: await median_page_ms(url) for label, url in REVIEW_PAGES.items()}

    try:
        return asyncio.run(run())
    finally:
        ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="build here, or reuse it if it exists (default: a temporary file)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    parser.add_argument("--postgres-url", default=os.environ.get("REVIEWMON_TEST_POSTGRES_URL"),
                        help="also time the searches on PostgreSQL (bench/search.py), in a new schema, dropped after")
    args = parser.parse_args()
    end = datetime.now(timezone.utc).date() - timedelta(days=1)
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "dashboard.db"
        built = None if path.exists() else build(path, args.reviews, end=end)
        engine = db.make_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            reviews = connection.exec_driver_sql("SELECT count(*) FROM reviews").scalar_one()
        started = time.perf_counter()
        first = rollups.refresh(engine, DEFAULT_TOPICS)
        first_s = time.perf_counter() - started
        rows = time_reports(engine, end)
        pages, review_pages = page_ms(path, end)
        simulate_poll(engine, end)
        poll_ms = median_ms(lambda: rollups.refresh(engine, DEFAULT_TOPICS), runs=1)
        started = time.perf_counter()
        rollups.refresh(engine, {**DEFAULT_TOPICS, "noise": ["noisy", "loud"]})
        retag_s = time.perf_counter() - started
        rollups.refresh(engine, DEFAULT_TOPICS)
        engine.dispose()
        if built is not None:
            search_bench.mark_rare(path)
        searches = search_bench.measure(path, args.postgres_url)

    if args.json:
        print(json.dumps({"reviews": reviews, "page_ms": {str(d): round(pages[d], 1) for d in pages},
                          "reviews_page_ms": {label: round(ms, 1) for label, ms in review_pages.items()},
                          "report_ms": {str(d): round(rows[d][1], 1) for d in rows},
                          "group_by_ms": {str(d): round(rows[d][3], 1) for d in rows},
                          "first_refresh_s": round(first_s, 1), "refresh_after_poll_ms": round(poll_ms, 1),
                          "search_ms": {name: {label: round(ms, 1) for label, (ms, _n) in cases.items()}
                                        for name, cases in searches.items()}}, indent=2))
        return
    print(f"# dashboard benchmark, {time.strftime('%Y-%m-%d')}, {machine()}, Python {platform.python_version()},"
          f" SQLite {sqlite3.sqlite_version}")
    print(f"# {reviews:,} reviews over two years" + (f", built in {built:.0f} s" if built else f" (reused {path})")
          + f"; weekly buckets, all sources; median of {RUNS} runs")
    print(f"{'':46} {'90 days':>10} {'365 days':>10}")
    print(f"{'reviews in the period':46} {rows[90][0]:>10,} {rows[365][0]:>10,}")
    for label, index in (("report() ms", 1), ("  its SQL on the trend tables ms", 2),
                         ("plain GROUP BY on the reviews ms (3 runs)", 3)):
        print(f"{label:46} {rows[90][index]:>10.1f} {rows[365][index]:>10.1f}")
    print(f"{'dashboard page, GET /trends logged in, ms':46} {pages[90]:>10.1f} {pages[365]:>10.1f}")
    for label, ms in review_pages.items():
        print(f"{'reviews page, ' + label + ', ms':46} {ms:>10.1f}   ({REVIEW_PAGES[label]})")
    what = "full rebuild" if first.full else "incremental"
    print(f"{'first refresh (after the bulk load) s':46} {first_s:>10.1f}   ({first.reviews:,} reviews, {what})")
    print(f"{'refresh after a poll (500 new, 50 posted) ms':46} {poll_ms:>10.1f}")
    print(f"{'refresh after [topics] changes s':46} {retag_s:>10.1f}   (every negative review tagged again)")
    search_bench.print_figures(searches)


if __name__ == "__main__":
    main()
