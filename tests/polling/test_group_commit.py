"""Group commit and the scoring pool: the machinery that lets one poll store the pages of
hundreds of sources, and score a big import on every core, without changing what is stored."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, insert
from sqlmodel import select

from service.models import PollRun, PollStatus, Review, Sentiment, Source, SourceStatus
from service.polling.group_commit import GroupCommit, Together
from service.polling.ingest import ingester_of
from service.polling.poll import poll
from service.reading import marks
from service.reading.scoring_pool import MIN_BATCH, ScoringPool
from service.reading.sentiment import scorer_of
from tests.conftest import write_jsonl

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
    in_place = [(scorer_of(ctx).score(text=t, title=ti, rating=r, translation=tr), marks.read(t, ti, keywords)) for t, ti, r, tr in items]
    assert any(escalation for _, (_, escalation, _) in in_place) and any(triage for _, (_, _, triage) in in_place)
    with ScoringPool(scorer_of(ctx), keywords, helpers=1) as pool:
        assert pool._executor is None
        assert pool.read(items) == in_place  # the first big batch starts the helper, and is read here meanwhile
        for started in pool._started:
            started.result(timeout=60)
        sent = pool.submit(items)
        assert sent._futures  # went to the helper
        assert sent.all() == in_place
    with ScoringPool(scorer_of(ctx), keywords, helpers=1) as pool:
        assert all(pool.read(items[:10]) == in_place[:10] for _ in range(3))
        assert pool._executor is None  # small batches never start a helper


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_big_import_read_ahead_by_a_helper_stores_what_reading_in_place_gives(make_context, tmp_path, monkeypatch) -> None:
    """Pages go to the helper as soon as they are read (service/polling/ingest.py read_ahead);
    each stored verdict and mark must still belong to its own review."""
    texts = ["Food was cold.", "Lovely staff, great coffee!", "Never again.", "The room was fine but the bed was broken.",
             "Das Essen war kalt und der Kellner unfreundlich, nie wieder.", "It was ok, nothing special really.",
             "My lawyer will hear about the food poisoning we got here", "DM me on whatsapp for cheap followers!!!"]
    records = [{"id": f"r{i}", "text": f"{texts[i % len(texts)]} ({i})", "rating": [None, 1, 3, 5][i % 4],
                "author": f"A{i}", "created_at": "2026-01-01T00:00:00+00:00"} for i in range(4 * MIN_BATCH)]
    write_jsonl(tmp_path / "big.jsonl", records)
    ctx = make_context([{"name": "big", "type": "file", "path": "big.jsonl", "page_size": MIN_BATCH}])
    pool = ingester_of(ctx).pool
    monkeypatch.setattr(pool, "helpers", 1)
    pool.read([("Warming up.", None, 5, None)] * MIN_BATCH)  # the helper starts as at a big import's first page
    for started in pool._started:
        started.result(timeout=60)
    sent = []
    monkeypatch.setattr(pool, "send", lambda items, send=pool.send: sent.append(send(items)) or sent[-1])
    helper = pool._executor
    results = asyncio.run(poll(ctx))
    assert results[0].ok and any(scores is not None for scores in sent)  # pages were read ahead by the helper
    assert pool._executor is None and helper._shutdown_thread  # told to exit once the last page was stored
    keywords = ctx.config.escalation.keywords
    with ctx.session() as session:
        stored = session.exec(select(Review.text, Review.rating, Review.escalation, Review.triage, Sentiment.negative, Sentiment.reason)
                              .join(Sentiment, Sentiment.review_id == Review.id)).all()
    assert len(stored) == len(records)
    for text, rating, escalation, triage, negative, reason in stored:
        verdict = scorer_of(ctx).score(text=text, title=None, rating=rating)
        _, escalated, triaged = marks.read(text, None, keywords)
        assert (negative, reason, triage) == (verdict.negative, verdict.reason, triaged), text
        assert escalation == (escalated if negative else None), text
