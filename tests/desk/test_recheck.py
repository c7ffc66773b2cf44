"""After an upgrade of the guard, stored drafts are checked again (`reviewmon rescore`):
an approved draft that now fails goes back to drafted with the reasons in its history,
and is never posted."""

from __future__ import annotations

import asyncio

from service.desk import approvals, posting, queries
from service.desk.recheck import recheck_drafts
from service.models import Draft
from service.polling import poll as poll_module
from tests.conftest import CONTACT, run_cli
from tests.fakeconnector import FakeSource, review

# What the guard before issue 17 let through: a treat beside an apology.
OLD_PASS = f"We apologise and we will pick up the tab next time. Please email us at {CONTACT}."


def _approved_then_smuggled(ctx) -> int:
    FakeSource().page(review("bad", "Cold food and a rude waiter.", 1, author="Nora"), cursor={"n": 1})
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        [draft] = queries.draft_rows(session)
    approvals.approve(ctx, draft["id"], actor="owner")
    with ctx.session(write=True) as session:  # as a draft approved by the older guard would be stored
        session.get(Draft, draft["id"]).text = OLD_PASS
    return draft["id"]


def test_an_approved_draft_that_fails_the_guard_now_goes_back_to_drafted(make_context, fake_type) -> None:
    ctx = make_context([{"name": "fake", "type": "fake"}])
    draft_id = _approved_then_smuggled(ctx)
    counts = recheck_drafts(ctx)
    assert (counts.checked, counts.now_failing, counts.unapproved) == (1, 1, 1)
    with ctx.session() as session:
        draft = queries.draft(session, draft_id)
    assert draft["status"] == "drafted" and not draft["policy_ok"]
    assert any("something of value" in p for p in draft["policy_problems"])
    [event] = [e for e in draft["history"] if e["action"] == "unapproved"]
    assert "fails the policy guard as it is now" in event["detail"] and "tab" in event["detail"]
    assert (event["actor"], event["what"]) == ("reviewmon", "took back the approval")
    results = asyncio.run(posting.post(ctx, [draft_id], actor="owner"))
    assert [r.outcome for r in results] == ["refused"]  # never to a platform
    assert recheck_drafts(ctx).now_failing == 0  # a second run changes nothing


def test_rescore_rechecks_the_drafts_from_the_command_line(make_context, fake_type, tmp_path) -> None:
    ctx = make_context([{"name": "fake", "type": "fake"}])
    _approved_then_smuggled(ctx)
    result = run_cli(tmp_path / "config.toml", "rescore")
    assert result.exit_code == 0, result.output
    assert "1 drafts checked again: 1 newly fail the guard, 1 of them were approved and are back to drafted" in result.output
