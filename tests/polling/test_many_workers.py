"""Three `reviewmon worker` processes share 120 sources on one PostgreSQL database,
served by a simulated platform with random latency and failures (tests/platform_sim.py).

What an agency running several workers relies on: every source is polled once per due
time (never by two workers at once), nothing is stored, drafted or alerted twice, and a
failing source fails alone and backs off."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from service import config as config_module
from service import db
from service.context import Context
from service.models import Alert, AlertStatus, Draft, PollRun, PollStatus, Review, Sentiment, Source
from tests.alert_helpers import WebhookReceiver, channels_toml
from tests.conftest import write_config
from tests.platform_sim import PlatformSim

REVIEWMON = str(Path(sys.executable).parent / "reviewmon")
SOURCES = 120  # three workers of 12 polls each: more sources than slots, so they contend every tick
ALWAYS_FAILING = range(112, 120)


def wait_for(condition, timeout: float, what: str, ctx: Context) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    runs = runs_per_source(ctx)
    with ctx.session() as session:
        behind = [(s.name, runs[s.name], s.lease_owner, s.next_poll_at, s.last_error)
                  for s in session.exec(select(Source)) if runs[s.name] < max(runs.values())]
    raise AssertionError(f"timed out waiting for {what}; behind: {behind[:10]}")


def runs_per_source(ctx: Context) -> Counter[str]:
    with ctx.session() as session:
        finished = session.exec(
            select(Source.name).join(PollRun).where(PollRun.status != PollStatus.running)
        ).all()
    return Counter(finished)


def pending_alerts(ctx: Context) -> int:
    with ctx.session() as session:
        return session.exec(select(func.count()).select_from(Alert).where(Alert.status != AlertStatus.sent)).one()


def test_three_workers_share_a_hundred_and_twenty_sources_once_per_due_time(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a PostgreSQL database (SQLite is for one machine)")
    sim = PlatformSim(
        apps=SOURCES, pages=2, per_page=5, latency=(0.005, 0.15), seed=5, hosts=4,
        failure_rate=0.05, failures=("500", "503", "429"), retry_after=1, failing_apps=ALWAYS_FAILING,
    )
    hook = WebhookReceiver()
    with sim:
        alerting = channels_toml({"name": "hook", "url_env": "REVIEWMON_TEST_HOOK", "events": ["negative", "source_failing"]},
                                 source_failures=2, max_age="3650d")
        config = write_config(
            tmp_path, database_url, sim.sources(schedule="1h", time_budget="4s"),
            extra='\n[poll]\ntick = "1s"\nconcurrency = 12\njitter = "0s"\n' + alerting,
        )
        ctx = Context.open(config_module.load(config), check_schema=False)
        db.migrate(ctx.engine)
        env = {**os.environ, "REVIEWMON_CONFIG": str(config), "REVIEWMON_TEST_HOOK": hook.url()}
        log_files = [tmp_path / f"worker-{i}.log" for i in range(3)]  # a file, not a pipe nobody reads while they run
        workers = [
            subprocess.Popen([REVIEWMON, "--log-format", "json", "worker"], env=env,
                             stdout=subprocess.DEVNULL, stderr=path.open("w"))
            for path in log_files
        ]
        try:
            # Round 1: every source is new, so due at once.
            wait_for(lambda: len(runs_per_source(ctx)) == SOURCES, 60, "the first round", ctx)
            time.sleep(2)  # a few more ticks: nothing is due, nothing more may be polled
            assert set(runs_per_source(ctx).values()) == {1}
            # Round 2: new reviews arrive on some apps, then every source falls due again.
            round_two = ctx.clock()
            for app_id in sim.app_ids[:40]:
                sim.add_reviews(app_id, 3)
            with ctx.session() as session:
                session.exec(update(Source).values(next_poll_at=ctx.clock() - timedelta(seconds=1)))
            wait_for(lambda: set(runs_per_source(ctx).values()) == {2}, 60, "the second round", ctx)
            time.sleep(2)
            assert set(runs_per_source(ctx).values()) == {2}  # once per due time, no more
            wait_for(lambda: pending_alerts(ctx) == 0, 30, "the alerts to go out", ctx)
        finally:
            if sys.exc_info()[0] is not None:
                for worker in workers:
                    worker.send_signal(signal.SIGUSR1)  # each prints its threads' stacks
                time.sleep(1)
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)
            logs = [path.read_text() for path in log_files]
            if sys.exc_info()[0] is not None:
                print("\n".join(line for log in logs for line in log.splitlines() if not line.startswith("{") or '"ERROR"' in line))
        assert [w.returncode for w in workers] == [0, 0, 0], logs
        stats = sim.stats(requests=True)

    assert stats["overlapping"] == []  # no app was ever read by two workers at once
    with ctx.session() as session:
        sources = {s.name: s for s in session.exec(select(Source))}
        stored = Counter(session.exec(select(Source.name).join(Review)).all())
        duplicates = session.exec(
            select(func.count()).select_from(select(Review.source_id, Review.external_id)
                                             .group_by(Review.source_id, Review.external_id)
                                             .having(func.count() > 1).subquery())
        ).one()
        drafts = session.exec(select(func.count(Draft.id), func.count(func.distinct(Draft.review_id)))).one()
        pollers = session.exec(select(func.count(func.distinct(PollRun.id)))).one()
        alerts = session.exec(select(Alert)).all()
        known_before = set(session.exec(select(PollRun.source_id).where(PollRun.status == PollStatus.ok,
                                                                         PollRun.finished_at < round_two)).all())
        news = session.exec(select(Review.source_id).join(Sentiment).where(Sentiment.negative, Review.first_seen_at > round_two)).all()
    ctx.close()
    hook.stop()
    # alerts: one per new negative review of round 2 and per source failing twice, each sent once
    assert Counter(a.event for a in alerts)["source_failing"] == len(ALWAYS_FAILING)
    assert len({(a.channel, a.key) for a in alerts}) == len(alerts) == len(hook.posts)
    expected = [source_id for source_id in news if source_id in known_before]  # a first poll is history, not news
    assert Counter(a.event for a in alerts)["negative"] == len(expected) > 0
    assert duplicates == 0 and drafts[0] == drafts[1]
    assert pollers == 2 * SOURCES
    assert all(s.lease_owner is None for s in sources.values())  # stopped cleanly, claims given back
    for index, app_id in enumerate(sim.app_ids):
        source = sources[f"app-{index}"]
        if index in ALWAYS_FAILING:  # failed alone, twice, and backs off beyond its schedule
            assert source.status == "failing" and source.failure_count == 2 and stored[source.name] == 0
            assert source.next_poll_at - source.last_polled_at >= timedelta(hours=2)
        elif source.status == "ok":  # everything the platform served is stored, once
            assert stored[source.name] == len(sim.reviews(app_id)), source.name
    healthy = [s for i, s in enumerate(sources.values()) if s.status == "ok"]
    assert len(healthy) >= SOURCES - len(ALWAYS_FAILING) - 10  # random failures are retried, rarely fatal
    busy = Counter(s.last_polled_at is not None for s in sources.values())
    assert busy[True] == SOURCES
