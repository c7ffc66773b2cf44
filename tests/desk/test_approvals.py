"""The draft state machine: the guard at every step, and a history of who did what."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from service.context import Context
from service.desk import approvals, queries
from service.errors import InvalidTransition, PolicyViolation
from service.models import DraftEvent
from service.polling import poll as poll_module


@pytest.fixture
def drafted(make_context, fake_type):
    """A context with one negative review and its draft; returns (make, draft id)."""
    from tests.fakeconnector import FakeSource, review

    FakeSource().page(review("bad", "Awful, cold food, rude staff.", 1, author="Nora"), cursor={"n": 1})
    ctx = make_context([{"name": "fake", "type": "fake"}])
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        [draft] = queries.draft_rows(session)
    return ctx, draft["id"]


def status(ctx: Context, draft_id: int) -> str:
    with ctx.session() as session:
        return queries.draft(session, draft_id)["status"]


def test_a_changed_contact_makes_an_old_draft_unapprovable(drafted, make_context) -> None:
    ctx, draft_id = drafted
    moved = make_context([{"name": "fake", "type": "fake"}], contact="https://harbourlane.example/contact")
    with pytest.raises(PolicyViolation) as caught:
        approvals.approve(moved, draft_id, actor="owner")
    assert any("does not give the contact channel https://harbourlane.example/contact" in p for p in caught.value.problems)
    assert status(ctx, draft_id) == "drafted"
    approvals.approve(ctx, draft_id, actor="owner")  # under the contact it was written for, it passes
    assert status(ctx, draft_id) == "approved"


def test_editing_an_approved_draft_needs_a_fresh_approval(drafted) -> None:
    ctx, draft_id = drafted
    approvals.approve(ctx, draft_id, actor="owner")
    verdict = approvals.edit(ctx, draft_id, "Sorry about this. Please email us at hello@harbourlane.example.", actor="owner")
    assert verdict.ok and status(ctx, draft_id) == "drafted"


def test_an_edit_that_breaks_the_rule_is_kept_but_never_approved(drafted) -> None:
    ctx, draft_id = drafted
    verdict = approvals.edit(ctx, draft_id, "Sorry! Here is a 20% discount: email hello@harbourlane.example.", actor="owner")
    assert not verdict.ok
    for _ in range(2):
        with pytest.raises(PolicyViolation):
            approvals.approve(ctx, draft_id, actor="owner")
    with ctx.session() as session:
        row = queries.draft(session, draft_id)
        refusals = session.exec(select(DraftEvent).where(DraftEvent.action == "approval refused")).all()
    assert row["status"] == "drafted" and not row["policy_ok"] and "discount" in row["text"]
    assert len(refusals) == 2 and all("something of value" in r.detail for r in refusals)


def test_transitions_that_make_no_sense_are_refused(drafted) -> None:
    ctx, draft_id = drafted
    approvals.reject(ctx, draft_id, actor="owner", reason="fake review")
    with pytest.raises(InvalidTransition):
        approvals.reject(ctx, draft_id, actor="owner")
    approvals.approve(ctx, draft_id, actor="owner")  # an owner may change their mind
    with pytest.raises(InvalidTransition):
        approvals.approve(ctx, draft_id, actor="owner")
    with ctx.session() as session:
        history = [(e["actor"], e["action"], e["status"], e["detail"]) for e in queries.draft(session, draft_id)["history"]]
    assert history[1:] == [("owner", "rejected", "rejected", "fake review"), ("owner", "approved", "approved", None)]


def test_an_enormous_edit_is_refused_before_it_is_stored(drafted) -> None:
    ctx, draft_id = drafted
    with pytest.raises(PolicyViolation, match="limited to"):
        approvals.edit(ctx, draft_id, "Sorry. " * 10_000, actor="owner")
