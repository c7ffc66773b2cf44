"""Due times, jitter and backoff; claims and leases; concurrent polling with timeouts.

What a user running reviewmon unattended relies on: a source is polled when it is due
and not before, by one process at a time, a slow or failing source holds up no other,
and a failing one backs off and says so."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import psutil
import pytest
from sqlalchemy import update
from sqlmodel import select

from connectors.errors import TransientError
from service.models import PollRun, PollStatus, Review, Source
from service.polling import claims
from service.polling import poll as poll_module
from service.schedule import Schedule, jitter, next_due

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_jitter_spreads_sources_on_one_schedule_within_a_tenth_of_the_gap() -> None:
    every = Schedule.parse("15m")
    dues = [next_due(every, NOW, key=f"loc-{i}", jitter_cap=timedelta(minutes=5)) for i in range(1000)]
    offsets = [(d - NOW - timedelta(minutes=15)).total_seconds() for d in dues]
    assert all(0 <= o < 90 for o in offsets)  # a tenth of 15 minutes
    assert len({int(o) for o in offsets}) > 80  # spread over the window, not bunched
    # the same source and due time always get the same offset (every process agrees)
    assert next_due(every, NOW, key="loc-1", jitter_cap=timedelta(minutes=5)) == dues[1]
    assert jitter("x", NOW, Schedule.parse("1d"), timedelta(minutes=5)) < timedelta(minutes=5)  # capped


def test_a_failing_source_backs_off_exponentially_up_to_the_cap() -> None:
    every = Schedule.parse("10m")
    waits = [
        next_due(every, NOW, key="s", jitter_cap=timedelta(0), failures=n, max_backoff=timedelta(hours=1)) - NOW
        for n in range(0, 8)
    ]
    assert [w.total_seconds() / 60 for w in waits] == [10, 10, 20, 40, 60, 60, 60, 60]
    daily = Schedule.parse("1d")  # a gap longer than the cap is never shortened
    assert next_due(daily, NOW, key="s", jitter_cap=timedelta(0), failures=5, max_backoff=timedelta(hours=1)) - NOW == timedelta(days=1)


def test_cron_schedules_are_due_at_their_next_fire_time() -> None:
    due = next_due(Schedule.parse("0 9 * * *"), NOW, key="s", jitter_cap=timedelta(0))
    assert due == datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def three_sources(make_context, fake_type):
    for name in ("a", "b", "c"):
        fake_type.FakeSource(name).page(fake_type.review(f"{name}1"))
    return make_context([{"name": n, "type": "fake", "script": n, "schedule": "1h"} for n in ("a", "b", "c")])


def test_only_due_sources_are_polled_and_each_gets_its_next_due_time(three_sources) -> None:
    ctx = three_sources
    first = asyncio.run(poll_module.poll(ctx, due_only=True))
    assert sorted(r.name for r in first) == ["a", "b", "c"]  # new sources are due at once
    assert asyncio.run(poll_module.poll(ctx, due_only=True)) == []  # nothing due an instant later
    with ctx.session() as session:
        session.exec(update(Source).where(Source.name == "b").values(next_poll_at=ctx.clock() - timedelta(seconds=1)))
        rows = {s.name: s for s in session.exec(select(Source))}
    assert all(timedelta(hours=1) <= rows[n].next_poll_at - rows[n].last_polled_at < timedelta(hours=1, minutes=6) for n in "ac")
    assert [r.name for r in asyncio.run(poll_module.poll(ctx, due_only=True))] == ["b"]


def test_a_claimed_source_is_not_claimed_again_until_its_lease_lapses(three_sources) -> None:
    ctx = three_sources
    asyncio.run(poll_module.poll(ctx))  # rows exist
    mine = claims.claim(ctx, "elsewhere:1:x", ["a", "b"], due_only=False, limit=10)
    assert {c.name for c in mine} == {"a", "b"}
    assert claims.claim(ctx, "elsewhere:2:y", ["a", "b", "c"], due_only=False, limit=10)[0].name == "c"
    results = asyncio.run(poll_module.poll(ctx, ["a", "c"]))
    assert {r.name: r.busy for r in results} == {"a": "elsewhere:1:x", "c": "elsewhere:2:y"}
    # the holder died without giving the claim back: once the lease lapses, it is free
    with ctx.session() as session:
        session.exec(update(Source).where(Source.name == "a").values(lease_until=ctx.clock() - timedelta(seconds=1)))
    [again] = asyncio.run(poll_module.poll(ctx, ["a"]))
    assert again.busy is None and again.ok


def test_a_claim_held_by_a_dead_process_on_this_machine_is_taken_at_once(three_sources) -> None:
    ctx = three_sources
    asyncio.run(poll_module.poll(ctx))
    dead = f"{claims.process_id().split(':')[0]}:999999999:gone"  # no such pid
    with ctx.session() as session:
        session.exec(update(Source).where(Source.name == "a").values(lease_owner=dead, lease_until=ctx.clock() + timedelta(hours=1)))
        run = PollRun(source_id=session.exec(select(Source.id).where(Source.name == "a")).one(), started_at=ctx.clock(), status=PollStatus.running)
        session.add(run)
    [result] = asyncio.run(poll_module.poll(ctx, ["a"]))
    assert result.ok and result.busy is None
    with ctx.session() as session:
        interrupted = session.get(PollRun, run.id)
    assert interrupted.status == PollStatus.failed and "interrupted" in interrupted.error


def test_a_claim_held_by_a_process_that_died_but_is_not_yet_reaped_is_taken_at_once(three_sources) -> None:
    """A killed poll's forked helper is a zombie until init reaps it (seconds under load;
    never, in a container whose first process reaps nothing); it polls nothing, so its
    lease must not keep the next cron poll from the source."""
    ctx = three_sources
    asyncio.run(poll_module.poll(ctx))
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        holder = f"{claims.process_id().split(':')[0]}:{helper.pid}:helper"
        with ctx.session() as session:
            session.exec(update(Source).where(Source.name == "a").values(lease_owner=holder, lease_until=ctx.clock() + timedelta(hours=1)))
        [result] = asyncio.run(poll_module.poll(ctx, ["a"]))
        assert result.busy == holder  # alive: it may be polling

        helper.kill()
        deadline = time.monotonic() + 10
        while psutil.Process(helper.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.01)  # dead, and nobody has waited for it yet
        [result] = asyncio.run(poll_module.poll(ctx, ["a"]))
        assert result.ok and result.busy is None
    finally:
        helper.kill()
        helper.wait()


def test_a_dead_process_claim_taken_by_another_poll_meanwhile_is_not_taken_twice(three_sources, monkeypatch) -> None:
    """Two polls find the same dead process's lease; the one that claims second must not
    take the source from the one that claimed first (a poll over several processes does
    this all the time after a killed poll)."""
    ctx = three_sources
    asyncio.run(poll_module.poll(ctx))
    dead = f"{claims.process_id().split(':')[0]}:999999999:gone"
    with ctx.session() as session:
        session.exec(update(Source).where(Source.name == "a").values(lease_owner=dead, lease_until=ctx.clock() + timedelta(hours=1)))
    real_gone = claims._gone

    def the_other_poll_claims_first(owner: str) -> bool:
        monkeypatch.setattr(claims, "_gone", real_gone)
        assert [c.name for c in claims.claim(ctx, "elsewhere:7:first", ["a"], due_only=False, limit=1)] == ["a"]
        return real_gone(owner)

    monkeypatch.setattr(claims, "_gone", the_other_poll_claims_first)
    assert claims.claim(ctx, "elsewhere:8:second", ["a"], due_only=False, limit=1) == []
    with ctx.session() as session:
        assert session.exec(select(Source.lease_owner).where(Source.name == "a")).one() == "elsewhere:7:first"


def test_sources_are_polled_concurrently_and_a_hung_one_times_out_alone(make_context, fake_type) -> None:
    for i in range(6):
        fake_type.FakeSource(f"slow{i}").wait(0.5).page(fake_type.review(f"s{i}"))
    fake_type.FakeSource("hung").page(fake_type.review("h1")).wait(3600).page(fake_type.review("h2"))
    sources = [{"name": f"slow{i}", "type": "fake", "script": f"slow{i}"} for i in range(6)]
    sources.append({"name": "hung", "type": "fake", "script": "hung", "time_budget": "1s"})
    ctx = make_context(sources, extra="\n[poll]\nlease_grace = \"2s\"\n")
    started = time.monotonic()
    results = {r.name: r for r in asyncio.run(poll_module.poll(ctx))}
    elapsed = time.monotonic() - started
    assert elapsed < 4.5  # six 0.5 s sources in parallel, the hung one cut at its budget (plus half the grace)
    assert all(results[f"slow{i}"].ok for i in range(6))
    hung = results["hung"]
    assert not hung.ok and "time budget" in hung.error
    with ctx.session() as session:
        kept = session.exec(select(Review.external_id).join(Source).where(Source.name == "hung")).all()
        row = session.exec(select(Source).where(Source.name == "hung")).one()
    assert kept == ["h1"]  # the page stored before the hang is kept
    assert row.failure_count == 1 and row.lease_owner is None and row.status == "failing"


def test_failures_back_off_and_count_until_a_success(make_context, fake_type) -> None:
    script = fake_type.FakeSource("flaky").fail(TransientError("503 from the platform"))
    ctx = make_context([{"name": "flaky", "type": "fake", "script": "flaky", "schedule": "10m"}],
                       extra="\n[poll]\njitter = \"0s\"\n")
    gaps = []
    for _ in range(3):
        [result] = asyncio.run(poll_module.poll(ctx, ["flaky"]))
        assert not result.ok
        with ctx.session() as session:
            row = session.exec(select(Source)).one()
        gaps.append(round((row.next_poll_at - row.last_polled_at).total_seconds() / 60))
    assert gaps == [10, 20, 40] and row.failure_count == 3 and row.failing_since is not None
    script.steps = []
    script.page(fake_type.review("ok1"))
    [result] = asyncio.run(poll_module.poll(ctx, ["flaky"]))
    with ctx.session() as session:
        row = session.exec(select(Source)).one()
    assert result.ok and row.failure_count == 0 and row.failing_since is None and row.last_error is None
