"""Posting approved replies: checked once more, sent once, recorded, never doubled."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from connectors.base import ReplyLimit
from connectors.errors import ReplyRejected
from service.desk import approvals, posting, queries
from service.errors import InvalidTransition
from service.polling import poll as poll_module
from tests.conftest import CONTACT, run_cli

NO_COOLING_OFF = '\n[replies]\ncooling_off = "0s"\n'


def setup(make_context, fake_type):
    from tests.fakeconnector import FakeSource, review

    FakeSource().page(review("r1", "Cold food, rude staff. Awful.", 1, author="Nora", url="https://fake.example/r1"), cursor={"n": 1})
    ctx = make_context([{"name": "fb", "type": "fakereply"}], extra=NO_COOLING_OFF)
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        [draft] = queries.draft_rows(session)
    approvals.approve(ctx, draft["id"], actor="owner")
    return ctx, draft["id"]


def post(ctx, *ids, dry_run=False):
    return asyncio.run(posting.post(ctx, list(ids) or None, actor="owner", dry_run=dry_run))


def draft(ctx, draft_id):
    with ctx.session() as session:
        return queries.draft(session, draft_id)


def test_an_approved_reply_is_posted_once_and_recorded(make_context, fake_type) -> None:
    ctx, draft_id = setup(make_context, fake_type)
    [result] = post(ctx)
    assert (result.outcome, result.message) == ("posted", "posted to Fakebook (PENDING_PUBLISH)")
    row = draft(ctx, draft_id)
    assert row["status"] == "posted"
    assert fake_type.FakeReplyConnector.posted == [("r1", row["text"])]
    assert [h["action"] for h in row["history"]][-2:] == ["posting", "posted"]
    assert post(ctx) == []  # nothing left to post: never twice


def test_dry_run_sends_nothing(make_context, fake_type) -> None:
    ctx, draft_id = setup(make_context, fake_type)
    [result] = post(ctx, dry_run=True)
    assert result.outcome == "would post" and fake_type.FakeReplyConnector.posted == []
    assert draft(ctx, draft_id)["status"] == "approved"


def test_a_reply_over_the_platform_limit_is_refused_before_any_request(make_context, fake_type, monkeypatch) -> None:
    ctx, draft_id = setup(make_context, fake_type)
    # Approved under a larger limit; the platform has since lowered it.
    smaller = replace(fake_type.FakeReplyConnector.capabilities, reply_limit=ReplyLimit(60))
    monkeypatch.setattr(fake_type.FakeReplyConnector, "capabilities", smaller)
    [result] = post(ctx)
    text = draft(ctx, draft_id)["text"]
    assert result.outcome == "refused"
    assert f"is {len(text)} characters long; the platform allows 60" in result.message
    assert fake_type.FakeReplyConnector.posted == [] and draft(ctx, draft_id)["status"] == "approved"


def test_a_refused_reply_is_kept_as_failed_and_retried_only_when_named(make_context, fake_type) -> None:
    ctx, draft_id = setup(make_context, fake_type)
    fake_type.FakeReplyConnector.refuse_with = ReplyRejected("400: INVALID_ARGUMENT: reply violates policy")
    [result] = post(ctx)
    assert result.outcome == "failed" and "reply violates policy" in result.message
    row = draft(ctx, draft_id)
    assert row["status"] == "failed" and row["history"][-1]["detail"].endswith("reply violates policy")
    fake_type.FakeReplyConnector.refuse_with = None
    assert post(ctx) == []  # not retried unless named
    [retried] = post(ctx, draft_id)
    assert retried.outcome == "posted" and len(fake_type.FakeReplyConnector.posted) == 1


@pytest.mark.parametrize("upsert", [True, False])
def test_a_crash_between_the_request_and_the_record_never_posts_twice(make_context, fake_type, monkeypatch, upsert) -> None:
    caps = replace(fake_type.FakeReplyConnector.capabilities, reply_upsert=upsert)
    monkeypatch.setattr(fake_type.FakeReplyConnector, "capabilities", caps)
    ctx, draft_id = setup(make_context, fake_type)

    real_posted = posting._posted

    def crash(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(posting, "_posted", crash)
    with pytest.raises(SystemExit):
        post(ctx)
    assert draft(ctx, draft_id)["status"] == "posting"
    assert len(fake_type.FakeReplyConnector.posted) == 1
    monkeypatch.setattr(posting, "_posted", real_posted)
    [result] = post(ctx)
    assert result.outcome == "posted" and draft(ctx, draft_id)["status"] == "posted"
    # An upsert platform simply takes the same reply again (it replaces itself); elsewhere
    # the reply is read back first and not sent a second time.
    assert len(fake_type.FakeReplyConnector.posted) == (2 if upsert else 1)


def test_a_platform_without_a_reply_api_gets_the_text_and_link(make_context, fake_type) -> None:
    from tests.fakeconnector import FakeSource, review

    FakeSource().page(review("r1", "Awful.", 1, url="https://fake.example/r1"), cursor={"n": 1})
    ctx = make_context([{"name": "plain", "type": "fake"}], extra=NO_COOLING_OFF)
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        [row] = queries.draft_rows(session)
    approvals.approve(ctx, row["id"], actor="owner")
    [result] = post(ctx)
    assert result.outcome == "manual" and result.url == "https://fake.example/r1" and CONTACT in result.text
    posting.mark_posted(ctx, row["id"], actor="owner")
    assert draft(ctx, row["id"])["status"] == "posted"
    with pytest.raises(InvalidTransition):
        posting.mark_posted(ctx, row["id"], actor="owner")


def test_the_review_changing_after_our_reply_marks_it_outdated(make_context, fake_type) -> None:
    from tests.fakeconnector import SCRIPTS, review

    ctx, draft_id = setup(make_context, fake_type)
    post(ctx)
    text = draft(ctx, draft_id)["text"]
    # The platform now shows our reply: the next poll confirms it.
    SCRIPTS["default"].steps = []
    SCRIPTS["default"].page(review("r1", "Cold food, rude staff. Awful.", 1, author="Nora", url="https://fake.example/r1", owner_reply=text), cursor={"n": 2})
    asyncio.run(poll_module.poll(ctx))
    assert [h["action"] for h in draft(ctx, draft_id)["history"]][-1] == "confirmed"
    # Then the reviewer edits the review: the owner should look again.
    SCRIPTS["default"].steps = []
    SCRIPTS["default"].page(review("r1", "Still awful, and they never called.", 1, author="Nora", owner_reply=text), cursor={"n": 3})
    asyncio.run(poll_module.poll(ctx))
    assert draft(ctx, draft_id)["status"] == "outdated"


def test_cli_post_and_mark_posted(make_context, fake_type, tmp_path) -> None:
    ctx, draft_id = setup(make_context, fake_type)
    config = tmp_path / "config.toml"
    dry = run_cli(config, "drafts", "post", "--dry-run")
    assert dry.exit_code == 0 and f"draft {draft_id}: would post" in dry.output
    done = run_cli(config, "drafts", "post", str(draft_id))
    assert done.exit_code == 0 and f"draft {draft_id}: posted" in done.output
    again = run_cli(config, "drafts", "post", str(draft_id))
    assert again.exit_code == 1 and "only approved drafts are posted" in again.output


def test_a_posted_reply_can_be_withdrawn_where_the_platform_allows(make_context, fake_type) -> None:
    ctx, draft_id = setup(make_context, fake_type)
    with pytest.raises(InvalidTransition, match="only a posted reply can be withdrawn"):
        asyncio.run(posting.withdraw(ctx, draft_id, actor="owner"))
    post(ctx)
    assert asyncio.run(posting.withdraw(ctx, draft_id, actor="owner")) == "Fakebook"
    assert fake_type.FakeReplyConnector.shown == {} and draft(ctx, draft_id)["status"] == "withdrawn"


def test_an_angry_review_waits_out_the_cooling_off_time(make_context, fake_type) -> None:
    from datetime import timedelta

    from tests.fakeconnector import FakeSource, review

    FakeSource().page(review("r1", "Awful, cold and rude.", 1), cursor={"n": 1})
    ctx = make_context([{"name": "fb", "type": "fakereply"}])  # default: 1 hour
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        [row] = queries.draft_rows(session)
    approvals.approve(ctx, row["id"], actor="owner")  # approving early is fine...
    [result] = post(ctx)
    assert result.outcome == "waiting" and "cooling-off" in result.message  # ...posting waits
    assert fake_type.FakeReplyConnector.posted == []
    real_now = ctx.clock()
    ctx.clock = lambda: real_now + timedelta(hours=1, seconds=1)
    [later] = post(ctx)
    assert later.outcome == "posted"


def test_nothing_publishes_before_the_cooling_off_ends(make_context, fake_type, tmp_path) -> None:
    """Neither `drafts post N` nor `drafts mark-posted N` (a reply posted by hand) goes
    through before the cooling-off ends: a clear message and exit 1, the draft still approved."""
    from tests.fakeconnector import FakeSource, review

    FakeSource().page(review("r1", "Awful, cold and rude.", 1), cursor={"n": 1})
    ctx = make_context([{"name": "fb", "type": "fakereply"}])  # default: 1 hour
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        [row] = queries.draft_rows(session)
    approvals.approve(ctx, row["id"], actor="owner")
    config = tmp_path / "config.toml"
    for command in (("drafts", "post", str(row["id"])), ("drafts", "mark-posted", str(row["id"]))):
        refused = run_cli(config, *command)
        assert refused.exit_code == 1, command
        assert "cooling-off" in refused.output and "UTC" in refused.output
    unnamed = run_cli(config, "drafts", "post")  # cron posting whatever is due: waiting is no failure
    assert unnamed.exit_code == 0 and "cooling-off" in unnamed.output
    assert draft(ctx, row["id"])["status"] == "approved" and fake_type.FakeReplyConnector.posted == []
