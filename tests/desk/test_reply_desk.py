"""Reply desk rules at the service level: escalation, copied texts, second approver,
regenerated wordings, follow-ups and the inbox order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from service.desk import approvals, queries
from service.desk.users import Actor, Forbidden
from service.polling import poll as poll_module
from service.polling.ingest import rescore

ANGRY = "Cold food and a rude waiter. Awful."


def seed(make_context, fake_type, *reviews, extra: str = ""):
    from tests.fakeconnector import FakeSource

    FakeSource().page(*reviews, cursor={"n": 1})
    ctx = make_context([{"name": "fake", "type": "fake"}], extra=extra)
    asyncio.run(poll_module.poll(ctx))
    return ctx


def inbox(ctx):
    with ctx.session() as session:
        return list(queries.inbox_rows(session, now=ctx.clock()))


def test_escalated_reviews_come_first_and_need_an_owner(make_context, fake_type) -> None:
    from tests.fakeconnector import review

    ctx = seed(make_context, fake_type,
               review("plain", ANGRY, 1),
               review("legal", "Terrible. My lawyer will hear about this.", 1),
               review("praise", "Dangerous place, I keep coming back! Lovely.", 5))
    rows = inbox(ctx)
    assert [r["escalation"] for r in rows] == ["legal action (lawyer*)".replace("*", ""), None]
    with ctx.session() as session:
        praise = next(r for r in queries.review_rows(session) if r["external_id"] == "praise")
    assert praise["escalation"] is None  # praise mentioning "dangerous" is not escalated
    with pytest.raises(Forbidden, match="may not approve"):
        approvals.approve(ctx, rows[0]["draft_id"], actor=Actor("sam", "marketer"))


def test_the_same_text_from_two_reviewers_is_marked_on_both(make_context, fake_type) -> None:
    from tests.fakeconnector import review

    copied = "Worst place in town, rude staff, cold food, never again, avoid it."
    ctx = seed(make_context, fake_type, review("a", copied, 1, author="Ann"), review("b", copied, 1, author="Bob"))
    with ctx.session() as session:
        marks = {r["external_id"]: r["triage"] for r in queries.review_rows(session)}
    assert "the same text as review" in marks["a"] and "the same text as review" in marks["b"]


def test_a_text_posted_again_and_again_is_marked_without_the_work_growing_with_it(make_context, fake_type) -> None:
    """A burst of fakes, page after page: every copy is marked, the first one once, and
    the first copy is not looked up and updated again for every later copy (with every
    copy ever stored read back on each page, a large import was quadratic)."""
    from sqlalchemy import event

    from tests.fakeconnector import FakeSource, review

    copied = "Worst place in town, rude staff, cold food, never again, avoid it."
    script = FakeSource()
    for page in range(10):
        script.page(*(review(f"p{page}r{n}", copied, 1, author=f"bot{page * 20 + n}") for n in range(20)), cursor={"n": page})
    ctx = make_context([{"name": "fake", "type": "fake"}])
    statements, per_page = [], []
    event.listen(ctx.engine, "before_cursor_execute", lambda *_: statements.append(1))
    real = poll_module.Poller._store_pages

    def counted(self, session, pages):
        before = len(statements)
        done = real(self, session, pages)
        per_page.append(len(statements) - before)
        return done

    poll_module.Poller._store_pages = counted
    try:
        asyncio.run(poll_module.poll(ctx))
    finally:
        poll_module.Poller._store_pages = real
    with ctx.session() as session:
        rows = sorted(queries.review_rows(session), key=lambda r: r["id"])
    assert len(rows) == 200 and all("the same text as review" in r["triage"] for r in rows)
    assert rows[0]["triage"] == f"the same text as review {rows[1]['id']} by another reviewer"
    assert max(per_page[1:]) <= per_page[1] + 2, per_page  # the tenth page costs what the second did
    assert max(per_page) <= 20 + 11, per_page  # at most one statement per review of the page (+ a few per page), not two per copy


def test_second_pair_of_eyes(make_context, fake_type) -> None:
    from tests.fakeconnector import review

    ctx = seed(make_context, fake_type, review("r", ANGRY, 1), extra="\n[replies]\nsecond_approver = true\n")
    [row] = inbox(ctx)
    approvals.edit(ctx, row["draft_id"], "We are sorry. Please email us at hello@harbourlane.example.", actor="maria")
    with pytest.raises(Forbidden, match="another person must approve it"):
        approvals.approve(ctx, row["draft_id"], actor="maria")
    approvals.approve(ctx, row["draft_id"], actor="sean")
    with ctx.session() as session:
        assert queries.draft(session, row["draft_id"])["approved_by"] == "sean"


def test_regenerate_gives_another_wording_that_passes(make_context, fake_type) -> None:
    from tests.fakeconnector import review

    ctx = seed(make_context, fake_type, review("r", ANGRY, 1, author="Nora"))
    [row] = inbox(ctx)
    before = row["draft_text"]
    verdict = approvals.regenerate(ctx, row["draft_id"], actor="maria")
    [after] = inbox(ctx)
    assert verdict.ok and after["draft_text"] != before and "Nora" in after["draft_text"]


def test_followups_list_unresolved_cases_after_the_set_time(make_context, fake_type) -> None:
    from tests.fakeconnector import review

    ctx = seed(make_context, fake_type, review("r1", ANGRY, 1), review("r2", "Awful, never again.", 2))
    rows = inbox(ctx)
    for row in rows:
        approvals.approve(ctx, row["draft_id"], actor="maria")
    approvals.record_followup(ctx, rows[0]["draft_id"], "resolved", actor="maria", note="refunded by phone")
    approvals.record_followup(ctx, rows[1]["draft_id"], "contacted", actor="maria")
    now = ctx.clock()
    with ctx.session() as session:
        assert list(queries.open_followups(session, now=now, after=timedelta(days=7))) == []
        later = list(queries.open_followups(session, now=now + timedelta(days=8), after=timedelta(days=7)))
    assert [r["draft_id"] for r in later] == [rows[1]["draft_id"]] and later[0]["followup"] == "contacted"


def test_rescore_marks_reviews_stored_before(make_context, fake_type) -> None:
    from tests.fakeconnector import review

    ctx = seed(make_context, fake_type, review("r", "The chef shouted; I will call my solicitor.", 1))
    ctx.config.escalation.keywords.clear()  # as if stored by a version without escalation
    ctx.config.escalation.keywords["legal action"] = ["solicitor*"]
    counts = rescore(ctx)
    assert counts.updated == 1
    [row] = inbox(ctx)
    assert row["escalation"] == "legal action (solicitor)"
