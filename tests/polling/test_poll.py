"""Polling end to end into a real database: stored once, edits kept, drafts exactly once,
and a crash in the middle neither loses nor duplicates anything."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from connectors.base import RowError
from connectors.errors import ConnectorError
from service.desk import queries
from service.models import Draft, DraftEvent, PollRun, Review, ReviewRevision, Sentiment, Source
from service.polling import poll as poll_module
from service.polling.ingest import ingester_of
from tests.conftest import CONTACT, write_jsonl
from tests.policy_oracle import reply_breaks_rule

SAMPLE_ROWS = [
    {"id": "r1", "text": "Lovely food and friendly staff.", "rating": 5, "author": "Ana P."},
    {"id": "r2", "text": "Waited an hour, food was cold and the waiter was rude.", "rating": 1, "author": "Tom"},
    {"id": "r3", "text": "Terrible, awful, disgusting place.", "rating": 5, "author": "xX_critic_Xx"},
    {"id": "r4", "text": "It was fine.", "rating": 3, "author": "Bo"},
    {"id": "r5", "text": "Never again.", "rating": 2, "author": "Anonymous", "reply": "We are sorry, please email us."},
    {"id": "r6", "text": "Horrible experience, the worst service ever.", "author": "Zoë"},
    {"id": "r7", "text": "Das Essen war kalt und der Kellner war sehr unhöflich zu uns.", "rating": 2, "author": "Jürgen"},
    {"id": "r8", "text": "Das Essen war kalt und der Kellner war sehr unhöflich zu uns.", "author": "Heike"},
]


def poll(ctx, *names):
    return asyncio.run(poll_module.poll(ctx, list(names) or None))


def count(ctx, model) -> int:
    with ctx.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def file_ctx(make_context, tmp_path: Path):
    path = write_jsonl(tmp_path / "reviews.jsonl", SAMPLE_ROWS)
    return make_context([{"name": "imports", "type": "file", "path": "reviews.jsonl", "platform": "Google"}]), path


def test_a_new_file_is_stored_once_scored_and_drafted(file_ctx) -> None:
    ctx, _ = file_ctx
    [result] = poll(ctx)
    assert result.ok and result.counts.inserted == 8 and result.rejected == 0
    with ctx.session() as session:
        rows = {r["external_id"]: r for r in queries.review_rows(session)}
        drafts = list(queries.draft_rows(session))
    negative = {ext for ext, r in rows.items() if r["negative"]}
    # r2: 1 star; r3: 5 stars with an angry text; r5: 2 stars; r6: no rating, negative text;
    # r7: German with 2 stars (the rating decides); r8: German, no rating: not guessed.
    assert negative == {"r2", "r3", "r5", "r6", "r7"}
    assert "VADER cannot read" in rows["r7"]["reason"] and rows["r7"]["sentiment"] is None
    assert "no rating: not flagged" in rows["r8"]["reason"]
    assert "strongly negative" in rows["r3"]["reason"]
    # r5 already has an owner reply on the platform: no draft for it.
    assert sorted(d["external_id"] for d in drafts) == ["r2", "r3", "r6", "r7"]
    for draft in drafts:
        assert draft["policy_ok"], draft["policy_problems"]
        if draft["template"].startswith("en/"):  # the oracle reads English
            assert reply_breaks_rule(draft["text"], CONTACT) == [], draft["text"]
    texts = {d["external_id"]: d["text"] for d in drafts}
    assert texts["r2"].startswith(("Hi Tom,", "Hello Tom,", "Dear Tom,"))
    assert "critic" not in texts["r3"] and "Xx" not in texts["r3"]  # a handle is not a name


def test_a_second_poll_of_the_same_data_writes_nothing(file_ctx) -> None:
    ctx, path = file_ctx
    poll(ctx)
    with ctx.session() as session:
        before = [(r.id, r.changed_at, r.fingerprint) for r in session.exec(select(Review).order_by(Review.id))]
    [again] = poll(ctx)
    assert (again.counts.inserted, again.counts.updated, again.counts.drafted) == (0, 0, 0)
    # Touch the file without changing any review: it is read again, and still nothing is written.
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    [touched] = poll(ctx)
    assert touched.counts.unchanged == 8 and touched.counts.inserted == touched.counts.updated == 0
    with ctx.session() as session:
        after = [(r.id, r.changed_at, r.fingerprint) for r in session.exec(select(Review).order_by(Review.id))]
    assert after == before
    assert count(ctx, ReviewRevision) == 0 and count(ctx, Draft) == 4


def test_an_edited_rating_keeps_a_revision_and_flags_again(file_ctx) -> None:
    ctx, path = file_ctx
    poll(ctx)
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[0]["rating"] = 1  # r1: the happy reviewer changes their mind
    rows[1]["author"] = "Tom B."  # r2: only the display name changed
    write_jsonl(path, rows)
    [result] = poll(ctx)
    assert (result.counts.updated, result.counts.inserted, result.counts.drafted) == (2, 0, 1)
    with ctx.session() as session:
        r1 = next(queries.review_rows(session, source="imports", negative=True, limit=None) and
                  (r for r in queries.review_rows(session) if r["external_id"] == "r1"))
        assert r1["rating"] == 1 and r1["negative"] and r1["revisions"] == 1
        full = queries.review(session, r1["id"])
        assert full["revision_history"][0]["rating"] == 5
        assert full["revision_history"][0]["text"] == "Lovely food and friendly staff."
        r2 = next(r for r in queries.review_rows(session) if r["external_id"] == "r2")
        assert r2["author"] == "Tom B." and r2["revisions"] == 0
        drafts_per_review = session.exec(select(Draft.review_id, func.count()).group_by(Draft.review_id)).all()
    assert all(n == 1 for _, n in drafts_per_review) and len(drafts_per_review) == 5
    # Edited again, still negative: a revision more, but never a second draft.
    rows[0]["text"] = "Changed my mind, it was bad."
    write_jsonl(path, rows)
    poll(ctx)
    assert count(ctx, Draft) == 5 and count(ctx, ReviewRevision) == 2


def test_hostile_rows_give_errors_and_lose_no_valid_review(make_context, tmp_path: Path) -> None:
    rows = [
        {"id": "tpl", "text": "{{ 7*7 }} {% raw %} {{ config }}", "rating": 1, "author": "{{ user.name }}"},
        {"id": "html", "text": "<script>alert('x')</script><b>bold</b>", "rating": 2, "author": "<b>Sam</b>"},
        {"id": "big", "text": "bad " * 25_000, "rating": 1},
        {"id": "rtl", "text": "الطعام كان باردا جدا والخدمة سيئة للغاية \u202e", "rating": 1, "author": "مريم"},
        {"id": "emoji", "text": "😡😡😡 🤮", "rating": 1, "author": "Zo\u200bë"},
        '{"id": "cut", "text": "half a li',
        {"id": "zero", "text": "x", "rating": 0},
        {"id": "nine", "text": "x", "rating": 9},
        {"id": "nul", "text": "a\u0000b", "rating": 1},
    ]
    write_jsonl(tmp_path / "hostile.jsonl", rows)
    ctx = make_context([{"name": "hostile", "type": "file", "path": "hostile.jsonl"}])
    [result] = poll(ctx)
    assert result.ok
    assert sorted(e.where for e in result.problems) == ["line 6", "line 7", "line 8"]
    with ctx.session() as session:
        stored = {r["external_id"]: r for r in queries.review_rows(session)}
        drafts = list(queries.draft_rows(session))
        [run] = session.exec(select(PollRun)).all()
    assert set(stored) == {"tpl", "html", "big", "rtl", "emoji", "nul"}
    assert stored["tpl"]["text"] == "{{ 7*7 }} {% raw %} {{ config }}"  # stored as text, never rendered
    assert stored["html"]["text"] == "<script>alert('x')</script><b>bold</b>"
    assert len(stored["big"]["text"]) == len(("bad " * 25_000).strip())
    assert stored["nul"]["text"] == "a\ufffdb"
    assert len(drafts) == 6
    for draft in drafts:
        assert draft["policy_ok"], (draft["external_id"], draft["policy_problems"])
        if draft["template"].startswith("en/"):  # the oracle reads English
            assert reply_breaks_rule(draft["text"], CONTACT) == []
        assert "49" not in draft["text"] and "<" not in draft["text"] and "user.name" not in draft["text"]
    assert run.rejected == 3 and [p["where"] for p in run.problems] == ["line 6", "line 7", "line 8"]


def test_a_crash_mid_poll_loses_nothing_and_duplicates_nothing(make_context, fake_type) -> None:
    from tests.fakeconnector import FakeSource, review

    script = FakeSource()
    script.page(review("a"), review("b", "Awful.", 1), cursor={"upto": "b"})
    script.page(review("c"), review("d", "Awful.", 1), cursor=None)
    script.fail(ConnectorError("connection reset in the middle of page 3"))
    ctx = make_context([{"name": "fake", "type": "fake"}])
    [first] = poll(ctx)
    assert not first.ok and "connection reset" in first.error
    # Pages 1 and 2 landed; the cursor is the last one a stored page carried.
    assert count(ctx, Review) == 4
    with ctx.session() as session:
        source = session.exec(select(Source)).one()
        assert source.cursor == {"upto": "b"} and source.failure_count == 1
        assert "connection reset" in source.last_error

    # Next poll: the platform serves everything again, from the saved cursor.
    script.steps = []
    script.page(review("a"), review("b", "Awful.", 1), review("c"), review("d", "Awful.", 1), review("e"), cursor={"upto": "e"})
    [second] = poll(ctx)
    assert second.ok and second.counts.inserted == 1 and second.counts.unchanged == 4
    assert script.cursors_seen[-1] == {"upto": "b"}
    assert count(ctx, Review) == 5 and count(ctx, Draft) == 2
    with ctx.session() as session:
        source = session.exec(select(Source)).one()
        assert source.cursor == {"upto": "e"} and source.failure_count == 0 and source.last_error is None


def test_a_failure_inside_the_page_transaction_rolls_the_whole_page_back(make_context, fake_type, monkeypatch) -> None:
    from tests.fakeconnector import FakeSource, review

    FakeSource().page(review("a"), cursor={"page": 1}).page(review("b", "Awful.", 1), cursor={"page": 2})
    ctx = make_context([{"name": "fake", "type": "fake"}])
    real = ingester_of(ctx)._draft
    calls = []

    def crash_on_second_page(session, rows, now):
        calls.append(rows)
        if rows:
            raise RuntimeError("disk full")
        return real(session, rows, now)

    monkeypatch.setattr(ingester_of(ctx), "_draft", crash_on_second_page)
    [result] = poll(ctx)
    assert not result.ok and "disk full" in result.error
    with ctx.session() as session:
        assert [r.external_id for r in session.exec(select(Review))] == ["a"]
        assert session.exec(select(Source)).one().cursor == {"page": 1}
        assert session.exec(select(func.count()).select_from(Sentiment)).one() == 1
    monkeypatch.undo()
    monkeypatch.setitem(__import__("connectors").available(), "fake", fake_type.FakeConnector)
    [retry] = poll(ctx)
    assert retry.ok and count(ctx, Review) == 2 and count(ctx, Draft) == 1


def test_one_failing_source_does_not_stop_the_others(make_context, fake_type, tmp_path: Path) -> None:
    from tests.fakeconnector import FakeSource, review

    FakeSource("broken").fail(ConnectorError("platform says no"))
    FakeSource("fine").page(review("x"), cursor={"n": 1}, errors=[RowError("entry 2", "rating missing", raw={"id": 2})])
    ctx = make_context([
        {"name": "broken", "type": "fake", "script": "broken"},
        {"name": "fine", "type": "fake", "script": "fine"},
    ])
    results = {r.name: r for r in poll(ctx)}
    assert not results["broken"].ok and results["fine"].ok
    assert results["fine"].rejected == 1
    with ctx.session() as session:
        runs = {session.get(Source, r.source_id).name: r for r in session.exec(select(PollRun))}
    assert runs["broken"].status == "failed" and runs["broken"].error == "platform says no"
    assert runs["fine"].status == "ok" and runs["fine"].inserted == 1
    assert json.loads(runs["fine"].problems[0]["raw"]) == {"id": 2}


def test_the_bundled_sample_polls_offline(make_context) -> None:
    ctx = make_context([{"name": "sample", "type": "sample"}])
    [result] = poll(ctx)
    assert result.ok and result.counts.inserted >= 150 and result.rejected == 0
    with ctx.session() as session:
        drafts = list(queries.draft_rows(session))
        negatives = list(queries.review_rows(session, negative=True))
        unanswered = [r for r in negatives if not r["owner_reply"]]
        assert session.exec(select(func.count()).select_from(DraftEvent)).one() == len(drafts)
    assert len(drafts) == len(unanswered) > 20
    assert all(d["policy_ok"] for d in drafts)
    assert all(reply_breaks_rule(d["text"], CONTACT) == [] for d in drafts if d["template"].startswith("en/"))  # it reads English
    assert len({d["template"] for d in drafts}) >= 3  # replies do not all read the same


def test_a_full_listing_marks_missing_reviews_removed_and_keeps_them(make_context, fake_type) -> None:
    from tests.fakeconnector import FakeSource, review

    script = FakeSource()
    script.page(review("a"), review("b"), review("c"), cursor={"n": 1})
    ctx = make_context([{"name": "fake", "type": "fake"}])
    poll(ctx)
    # An incremental poll that does not list "b" says nothing about it...
    script.steps = []
    script.page(review("a"), cursor={"n": 2})
    poll(ctx)
    # ...a complete listing without it means the platform no longer has it.
    script.steps = []
    script.page(review("a"), cursor=None).page(review("c"), cursor={"n": 3}, complete=True)
    [result] = poll(ctx)
    assert result.removed == 1
    with ctx.session() as session:
        rows = {r["external_id"]: r for r in queries.review_rows(session)}
    assert rows["b"]["removed_at"] is not None and rows["a"]["removed_at"] is None and len(rows) == 3
    # It comes back: no longer removed.
    script.steps = []
    script.page(review("a"), review("b"), review("c"), cursor={"n": 4}, complete=True)
    poll(ctx)
    with ctx.session() as session:
        assert all(r["removed_at"] is None for r in queries.review_rows(session))


def test_failures_set_the_source_health(make_context, fake_type) -> None:
    from connectors.errors import AuthError, NotAuthorised
    from tests.fakeconnector import FakeSource

    FakeSource("creds").fail(AuthError("environment variable GOOGLE_REFRESH_TOKEN is not set"))
    FakeSource("denied").fail(NotAuthorised("not authorised (403): PERMISSION_DENIED"))
    FakeSource("flaky").fail(ConnectorError("server error 503"))
    ctx = make_context([{"name": n, "type": "fake", "script": n} for n in ("creds", "denied", "flaky")])
    poll(ctx)
    with ctx.session() as session:
        health = {s.name: (s.status, s.last_error) for s in session.exec(select(Source))}
    assert health["creds"] == ("needs credentials", "environment variable GOOGLE_REFRESH_TOKEN is not set")
    assert health["denied"][0] == "not authorised" and health["flaky"][0] == "failing"


def test_the_next_page_is_read_while_the_last_one_is_stored_and_pages_land_in_order(make_context, fake_type, monkeypatch) -> None:
    from tests.fakeconnector import FakeSource, review

    events: list[str] = []
    script = FakeSource()
    script.page(review("a"), cursor={"page": 1}).call(lambda: events.append("asked for page 2"))
    script.page(review("b"), cursor={"page": 2})
    ctx = make_context([{"name": "fake", "type": "fake"}])
    real = poll_module.Poller._store_pages

    def slow_store(self, session, pages):
        events.append(f"storing {pages[0].page.cursor}")
        time.sleep(0.3)  # a slow disk
        done = real(self, session, pages)
        events.append(f"stored {pages[0].page.cursor}")
        return done

    monkeypatch.setattr(poll_module.Poller, "_store_pages", slow_store)
    [result] = poll(ctx)
    assert result.ok and result.counts.inserted == 2
    assert events.index("asked for page 2") < events.index("stored {'page': 1}")  # read while page 1 was being stored
    assert [e for e in events if e.startswith("stor")] == ["storing {'page': 1}", "stored {'page': 1}", "storing {'page': 2}", "stored {'page': 2}"]
