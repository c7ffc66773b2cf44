"""Group commit and the scoring pool: the machinery that lets one poll store the pages of
hundreds of sources, and score a big import on every core, without changing what is stored."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, insert
from sqlmodel import select

from service import marks
from service.group_commit import GroupCommit, Together
from service.models import PollRun, PollStatus, Source, SourceStatus
from service.scoring_pool import MIN_BATCH, START_AFTER, ScoringPool

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def add_source(name: str):
    def job(session):
        return session.exec(insert(Source).values(name=name, type="file", created_at=NOW, failure_count=0,
                                                  status=SourceStatus.ok).returning(Source.id)).scalar_one()
    return job


async def write_all(writer: GroupCommit, jobs: list) -> list:
    return await asyncio.gather(*(writer.write(job) for job in jobs), return_exceptions=True)


def test_queued_jobs_land_together_and_a_failing_one_fails_alone(make_context) -> None:
    ctx = make_context([])
    transactions = []
    event.listen(ctx.engine, "commit", lambda *_: transactions.append(1))

    def broken(session):
        session.exec(insert(Source).values(name="a", type="file", created_at=NOW, failure_count=0, status=SourceStatus.ok))
        raise RuntimeError("a bad page")

    with ThreadPoolExecutor(1) as db_thread:
        writer = GroupCommit(ctx, db_thread)
        results = asyncio.run(write_all(writer, [add_source(f"s{i}") for i in range(5)] + [broken]))
    assert all(isinstance(r, int) for r in results[:5])
    assert isinstance(results[5], RuntimeError) and str(results[5]) == "a bad page"
    with ctx.session() as session:
        assert sorted(session.exec(select(Source.name))) == [f"s{i}" for i in range(5)]  # nothing of the bad job
    assert len(transactions) <= 6  # the batch failed, then one transaction per job; never one per statement


def test_together_jobs_reach_their_writer_in_one_call_with_results_in_order(make_context) -> None:
    ctx = make_context([])
    calls, prepared = [], []

    def prepare_all(session, names):
        prepared.append(list(names))

    def write_all_sources(session, names):
        calls.append(list(names))
        return [add_source(name)(session) for name in names]

    async def main() -> list:
        with ThreadPoolExecutor(1) as db_thread:
            writer = GroupCommit(ctx, db_thread)
            return await asyncio.gather(*(writer.write(Together(write_all_sources, f"t{i}", prepare_all)) for i in range(4)))

    ids = asyncio.run(main())
    with ctx.session() as session:
        by_name = {name: source_id for name, source_id in session.exec(select(Source.name, Source.id))}
    assert ids == [by_name[f"t{i}"] for i in range(4)]
    assert calls == [["t0", "t1", "t2", "t3"]] and prepared == calls


def test_a_cancelled_job_is_not_written(make_context) -> None:
    ctx = make_context([])

    async def main() -> None:
        with ThreadPoolExecutor(1) as db_thread:
            writer = GroupCommit(ctx, db_thread)
            first = asyncio.ensure_future(writer.write(add_source("kept")))
            dropped = asyncio.ensure_future(writer.write(add_source("dropped")))
            await asyncio.sleep(0)  # both are queued; the writer has not started yet
            dropped.cancel()  # (a source that ran out of time)
            await first
            await asyncio.sleep(0.05)

    asyncio.run(main())
    with ctx.session() as session:
        names = set(session.exec(select(Source.name)))
        assert session.exec(select(func.count()).select_from(PollRun).where(PollRun.status == PollStatus.running)).one() == 0
    assert names == {"kept"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_scoring_pool_gives_the_verdicts_and_marks_reading_in_place_gives(make_context) -> None:
    ctx = make_context([])
    texts = ["Food was cold.", "Lovely staff, great coffee!", "Never again.", "The room was fine but the bed was broken.",
             "Das Essen war kalt und der Kellner unfreundlich, nie wieder.", "It was ok.",
             "My lawyer will hear about the food poisoning we got here", "DM me on whatsapp for cheap followers!!!"]
    items = [(texts[i % len(texts)] + f" ({i})", None, [None, 1, 3, 5][i % 4], None) for i in range(MIN_BATCH + 50)]
    keywords = ctx.config.escalation.keywords
    in_place = [(ctx.scorer.score(text=t, title=ti, rating=r, translation=tr), marks.read(t, ti, keywords)) for t, ti, r, tr in items]
    assert any(escalation for _, (_, escalation, _) in in_place) and any(triage for _, (_, _, triage) in in_place)
    with ScoringPool(ctx.scorer, keywords, helpers=1) as pool:
        assert [pool.read(items) for _ in range(START_AFTER - 1)] == [in_place] * (START_AFTER - 1)
        assert pool._executor is None  # a small import never starts a helper
        pool.read(items)
        for started in pool._started:
            started.result(timeout=60)
        sent = pool.submit(items)
        assert sent._futures  # went to the helper
        assert sent.all() == in_place
    with ScoringPool(ctx.scorer, keywords, helpers=1) as pool:
        assert all(pool.read(items[:10]) == in_place[:10] for _ in range(START_AFTER + 1))
        assert pool._executor is None  # small batches never start a helper
