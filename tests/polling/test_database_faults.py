"""The database fails under a poll: the disk fills up, another process keeps the write
lock, PostgreSQL drops the connection in the middle of a page. The poll fails cleanly for
that source (its error says what the database said), nothing half-written stays, the
other sources still land, and the next poll completes."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import select

from connectors.base import ReviewData
from service.models import Draft, PollRun, Review, Sentiment, Source
from service.polling import poll as poll_module
from tests.fakeconnector import FakeSource, review


def poll(ctx) -> dict[str, poll_module.SourceResult]:
    return {r.name: r for r in asyncio.run(poll_module.poll(ctx))}


def bulky(external_id: str) -> ReviewData:
    """A review whose raw record takes a few database pages (a platform's full JSON)."""
    return ReviewData(external_id=external_id, text="Awful.", rating=1, raw={"id": external_id, "blob": "x" * 20_000})


def stored(ctx) -> dict[str, Any]:
    """Per source, the reviews stored; and the whole database's derived rows."""
    with ctx.session() as session:
        names = {s.id: s.name for s in session.exec(select(Source))}
        reviews: dict[str, set[str]] = {}
        for source_id, external_id in session.exec(select(Review.source_id, Review.external_id)):
            reviews.setdefault(names[source_id], set()).add(external_id)
        negative = session.exec(select(func.count()).select_from(Review).where(Review.rating <= 2)).one()
        return {
            "reviews": reviews,
            "cursors": {s.name: s.cursor for s in session.exec(select(Source))},
            "sentiments": session.exec(select(func.count()).select_from(Sentiment)).one(),
            "drafts": session.exec(select(func.count()).select_from(Draft)).one(),
            "negative": negative,
            "running": session.exec(select(func.count()).select_from(PollRun).where(PollRun.status == "running")).one(),
            "leased": [s.name for s in session.exec(select(Source)) if s.lease_owner],
        }


def assert_whole_pages(state: dict[str, Any]) -> None:
    """Nothing half-written: every review scored, every negative one drafted, no run left open."""
    total = sum(len(ids) for ids in state["reviews"].values())
    assert state["sentiments"] == total and state["drafts"] == state["negative"]
    assert state["running"] == 0 and state["leased"] == []


def assert_only_the_faulty_source_failed(ctx, results: dict[str, Any], words: str) -> dict[str, Any]:
    """The faulty source failed with the database's own words; the fine one landed; the
    faulty one kept its first page and cursor, whole."""
    assert results["fine"].ok
    failed = results["faulty"]
    assert not failed.ok and "database" in failed.error and words in failed.error, failed.error
    state = stored(ctx)
    assert state["reviews"] == {"fine": {"f1", "f2"}, "faulty": {"a", "b"}}
    assert state["cursors"] == {"fine": {"n": 1}, "faulty": {"p": 1}}
    assert_whole_pages(state)
    return state


def assert_the_next_poll_stores_the_rest(ctx) -> None:
    again = poll(ctx)
    assert again["faulty"].ok and again["faulty"].counts.inserted == 2
    state = stored(ctx)
    assert state["reviews"]["faulty"] == {"a", "b", "c", "d"} and state["cursors"]["faulty"] == {"p": 2}
    assert_whole_pages(state)


def two_sources(make_context, faulty: FakeSource, *, extra: str = ""):
    FakeSource("fine").page(review("f1"), review("f2", "Awful.", 1), cursor={"n": 1})
    return make_context([
        {"name": "faulty", "type": "fake", "script": "faulty"},
        {"name": "fine", "type": "fake", "script": "fine"},
    ], extra=extra)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_disk_fails_the_page_that_does_not_fit_and_the_next_poll_stores_it(make_context, fake_type) -> None:
    faulty = FakeSource("faulty")
    faulty.page(review("a"), review("b", "Awful.", 1), cursor={"p": 1})
    faulty.wait(0.3)  # the small source's page lands first
    faulty.page(*(bulky(f"big{i}") for i in range(30)), cursor={"p": 2})
    ctx = two_sources(make_context, faulty)
    with ctx.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
    cap = {"pages": pages + 40}  # room for the small pages, not for 600 kB of raw records

    def limit(dbapi_connection: Any, _record: Any) -> None:
        if cap["pages"]:
            dbapi_connection.execute(f"PRAGMA max_page_count={cap['pages']}")

    sa.event.listen(ctx.engine, "connect", limit)
    ctx.engine.dispose()

    results = poll(ctx)
    assert_only_the_faulty_source_failed(ctx, results, "database or disk is full")
    assert "INSERT" not in results["faulty"].error  # the database's words, not a page of SQL
    with ctx.session() as session:
        source = session.exec(select(Source).where(Source.name == "faulty")).one()
        assert source.failure_count == 1 and "disk is full" in source.last_error

    cap["pages"] = None  # space freed
    ctx.engine.dispose()
    again = poll(ctx)
    assert again["faulty"].ok and again["faulty"].counts.inserted == 30 and again["faulty"].counts.unchanged == 2
    state = stored(ctx)
    assert len(state["reviews"]["faulty"]) == 32 and state["cursors"]["faulty"] == {"p": 2}
    assert_whole_pages(state)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_lock_held_past_the_busy_timeout_fails_the_source_cleanly(make_context, fake_type, monkeypatch, tmp_path) -> None:
    locker = sqlite3.connect(tmp_path / "reviewmon.db", isolation_level=None, check_same_thread=False)

    def take_lock() -> None:  # another process starts a long write
        locker.execute("BEGIN IMMEDIATE")

    faulty = FakeSource("faulty")
    faulty.page(review("a"), review("b", "Awful.", 1), cursor={"p": 1})
    faulty.wait(0.3).call(take_lock)
    faulty.page(review("c"), review("d", "Awful.", 1), cursor={"p": 2})
    ctx = two_sources(make_context, faulty)

    def short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:  # runs after reviewmon's own pragmas
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    sa.event.listen(ctx.engine, "connect", short_busy_timeout)
    ctx.engine.dispose()
    # The other process commits as soon as the page's write has given up.
    def commit_after_the_failure(_context: Any) -> None:
        if locker.in_transaction:
            locker.execute("COMMIT")

    sa.event.listen(ctx.engine, "handle_error", commit_after_the_failure)

    assert_only_the_faulty_source_failed(ctx, poll(ctx), "database is locked")
    faulty.steps.remove(take_lock)
    assert_the_next_poll_stores_the_rest(ctx)
    locker.close()


@pytest.fixture
def pg_admin(database_url: str):
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def terminate(admin: sa.Engine, pids: list[int]) -> None:
    with admin.begin() as connection:
        for pid in pids:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_dropped_mid_page_fails_that_source_and_the_pool_recovers(make_context, fake_type, pg_admin) -> None:
    armed: list[bool] = []

    def kill_mid_page(conn, cursor, statement, *_args) -> None:
        # The server goes away between the page's first statements and its reviews' INSERT.
        if armed and statement.lstrip().upper().startswith("INSERT INTO REVIEWS"):
            armed.clear()
            terminate(pg_admin, [conn.connection.dbapi_connection.info.backend_pid])

    def arm() -> None:
        armed.append(True)

    faulty = FakeSource("faulty")
    faulty.page(review("a"), review("b", "Awful.", 1), cursor={"p": 1})
    faulty.wait(0.3).call(arm)
    faulty.page(review("c"), review("d", "Awful.", 1), cursor={"p": 2})
    ctx = two_sources(make_context, faulty)
    sa.event.listen(ctx.engine, "before_cursor_execute", kill_mid_page)

    assert_only_the_faulty_source_failed(ctx, poll(ctx), "terminat")
    faulty.steps.remove(arm)
    assert_the_next_poll_stores_the_rest(ctx)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_postgres_restart_between_polls_does_not_fail_the_next_one(make_context, fake_type, pg_admin) -> None:
    pids: list[int] = []
    faulty = FakeSource("faulty")
    faulty.page(review("a"), review("b", "Awful.", 1), cursor={"p": 1})
    ctx = two_sources(make_context, faulty)
    sa.event.listen(ctx.engine, "connect", lambda dbapi_connection, _record: pids.append(dbapi_connection.info.backend_pid))
    ctx.engine.dispose()
    assert all(r.ok for r in poll(ctx).values())

    terminate(pg_admin, pids)  # every pooled connection is dead now, as after a restart
    faulty.page(review("c"), cursor={"p": 2})
    again = poll(ctx)
    assert all(r.ok for r in again.values()) and again["faulty"].counts.inserted == 1
    assert_whole_pages(stored(ctx))
