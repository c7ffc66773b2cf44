"""Alerts end to end: reviews polled into a real database, the outbox, and delivery to a
real SMTP server and a real webhook on 127.0.0.1 through apprise. Once per event and
channel, whatever runs twice; failures recorded and retried, never raised."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import col, select

from service.alerts import deliver, enqueue, outbox
from service.models import Alert, AlertStatus, Draft, Review, Source
from tests.alert_helpers import (  # noqa: F401 (fixtures)
    ANGRY,
    ANGRY2,
    ANGRY3,
    HAPPY,
    LEGAL,
    SQLITE_ONLY,
    alerts,
    alerts_ctx_fixture,
    arrived,
    at,
    channels_toml,
    poll,
    review,
    smtp_fixture,
    webhook_fixture,
)
from tests.conftest import run_cli


def test_one_email_per_negative_review_and_none_on_the_first_poll(alerts_ctx, smtp, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_ALERTS_MAIL", smtp.url())
    ctx = alerts_ctx([HAPPY, ANGRY], {"name": "owner-mail", "url_env": "TEST_ALERTS_MAIL", "events": ["negative"]})
    first = poll(ctx, alerts=True)
    assert arrived(ctx, first, baseline=True) == 0  # the first poll is the past, not news
    assert deliver.deliver_due(ctx).messages == 0 and smtp.mails == []

    old = review("old1", "Awful, rude and slow.", 1, "Old", created_at="2020-01-05T10:00:00+00:00")
    happy2 = review("ok2", "Great coffee, quick service.", 5, "Eve")
    second = poll(ctx, tmp_path, [HAPPY, ANGRY, ANGRY2, happy2, old], alerts=True)  # queues and sends
    arrived(ctx, second)
    assert arrived(ctx, second) == 0  # the same page seen again: nothing new
    assert deliver.deliver_due(ctx).failed == 0
    assert deliver.deliver_due(ctx).messages == 0  # a re-delivery run sends nothing again
    poll(ctx, alerts=True)  # and a poll of the unchanged file neither
    deliver.deliver_due(ctx)

    assert len(smtp.mails) == 1, [m.subject for m in smtp.mails]
    [mail] = smtp.mails
    assert mail.recipients == ["owner@harbourlane.example"] and mail.sender == "alerts@reviewmon.example"
    assert mail.subject.startswith("Negative review on imports") and "by Bo" in mail.subject
    assert "Dirty tables and a rude manager" in mail.text and "Old Town" in mail.text
    assert "Dirty tables and a rude manager" in mail.html
    with ctx.session() as session:
        draft_id = session.exec(select(Draft.id).join(Review).where(Review.external_id == "bad2")).one()
    assert f"/drafts/{draft_id}" in mail.text and f"reviewmon drafts show {draft_id}" in mail.text
    [row] = alerts(ctx)
    assert (row.status, row.attempts, row.key, row.event) == ("sent", 0, f"review:{row.review_id}", "negative")
    assert row.sent_at is not None


def test_each_event_reaches_a_webhook_once(alerts_ctx, webhook, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url("/events"))
    monkeypatch.setenv("TEST_ALERTS_NEG", webhook.url("/negative-only"))
    monkeypatch.setenv("TEST_ALERTS_ESC", webhook.url("/escalated-only"))
    every = ["negative", "escalated", "source_failing", "source_recovered", "drafts_waiting"]
    ctx = alerts_ctx(
        [HAPPY],
        {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": every},
        {"name": "neg", "url_env": "TEST_ALERTS_NEG", "events": ["negative"]},
        {"name": "esc", "url_env": "TEST_ALERTS_ESC", "events": ["escalated"]},
        source_failures=2,
    )
    poll(ctx)
    stored = poll(ctx, tmp_path, [HAPPY, ANGRY, LEGAL])
    now = stored + timedelta(minutes=1)
    with ctx.session() as session:
        source = session.exec(select(Source).where(Source.name == "imports")).one()
        since = now - timedelta(hours=3)
        # what the poller records after a second failed poll in a row, then a success
        source.failure_count, source.failing_since, source.last_error = 2, since, "HTTP 503 from the platform"
        session.add(source)
        session.flush()
        for _ in range(2):  # everything asked twice, as overlapping runs would
            arrived_count = enqueue.reviews_arrived(session, ctx.config, source_id=source.id, stored_at=stored, baseline=False)
            enqueue.source_failed(session, ctx.config, source, now)
            enqueue.source_recovered(session, ctx.config, source, since, 2, now + timedelta(hours=1))
            enqueue.waiting_drafts(session, ctx.config, now + timedelta(hours=25))
        assert arrived_count == 0
        # a run of failures too short to have alerted does not announce a recovery
        assert enqueue.source_recovered(session, ctx.config, source, now, 1, now) == 0
    at(ctx, now + timedelta(hours=25))
    assert deliver.deliver_due(ctx).failed == 0
    deliver.deliver_due(ctx)

    by_path: dict[str, list[str]] = {}
    for post in webhook.posts:
        by_path.setdefault(post.path, []).append(post.body["title"])
    events = [a.event for a in alerts(ctx, channel="hook")]
    assert sorted(events) == sorted(["negative", "escalated", "source_failing", "source_recovered",
                                     "drafts_waiting", "drafts_waiting"])
    assert len(by_path["/events"]) == 6 and len(set(by_path["/events"])) == 6
    titles = "\n".join(by_path["/events"])
    assert "Escalated review on imports (legal action (lawyer), illness (food poisoning)) by Dee" in titles
    assert "Negative review on imports: ★☆☆☆☆ (1/5) by Tom" in titles
    assert "Source imports is failing (2 polls in a row)" in titles and "Source imports works again" in titles
    assert titles.count("A reply has waited 25 hours for an owner") == 2
    # a channel that takes only "negative" hears of the escalated review as a negative one
    assert sorted(by_path["/negative-only"]) == sorted(
        ["Negative review on imports: ★☆☆☆☆ (1/5) by Tom", "Negative review on imports: ★☆☆☆☆ (1/5) by Dee"])
    assert by_path["/escalated-only"] == [t for t in by_path["/events"] if t.startswith("Escalated")]
    failing = next(p.body for p in webhook.posts if p.body["title"].startswith("Source imports is failing"))
    assert "HTTP 503 from the platform" in failing["message"] and failing["type"] == "info"
    assert all(a.status == "sent" for a in alerts(ctx))


@SQLITE_ONLY
def test_a_digest_channel_sends_three_reviews_as_one_message(alerts_ctx, webhook, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    ctx = alerts_ctx([HAPPY], {"name": "digest", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"], "digest": "1h"})
    poll(ctx)
    stored = poll(ctx, tmp_path, [HAPPY, ANGRY, ANGRY2, ANGRY3])
    arrived(ctx, stored)
    at(ctx, stored + timedelta(minutes=30))
    assert deliver.deliver_due(ctx).messages == 0  # held: the oldest is not an hour old yet
    at(ctx, stored + timedelta(minutes=61))
    counts = deliver.deliver_due(ctx)
    assert (counts.messages, counts.sent) == (1, 3)
    [post] = webhook.posts
    assert post.body["title"] == "reviewmon: 3 alerts (3 negative)"
    for text in ("Waited an hour", "Dirty tables", "Overpriced and bland"):
        assert text in post.body["message"]
    rows = alerts(ctx)
    assert len(rows) == 3 and {r.status for r in rows} == {"sent"}
    assert len({r.batch for r in rows}) == 1 and rows[0].batch
    assert deliver.deliver_due(ctx).messages == 0


@SQLITE_ONLY
def test_a_failing_channel_is_retried_with_backoff_then_given_up(alerts_ctx, webhook, monkeypatch, tmp_path, caplog) -> None:
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url("/hook/s3cr3t-t0ken-abc"))
    ctx = alerts_ctx([HAPPY], {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"]}, attempts=3)
    poll(ctx)
    stored = poll(ctx, tmp_path, [HAPPY, ANGRY])
    arrived(ctx, stored)
    webhook.status = 500
    start = stored + timedelta(seconds=1)
    at(ctx, start)
    with caplog.at_level(logging.WARNING, logger="reviewmon.alerts"):
        counts = deliver.deliver_due(ctx)  # never raises
    assert (counts.failed, counts.gave_up, counts.messages) == (1, 0, 0)
    [row] = alerts(ctx)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "500" in row.last_error and row.next_attempt_at == start + timedelta(minutes=1)
    assert "s3cr3t-t0ken-abc" not in row.last_error and "s3cr3t-t0ken-abc" not in caplog.text
    assert "hook: could not send 1 alert(s)" in caplog.text

    assert deliver.deliver_due(ctx).failed == 0  # not due again yet
    assert poll(ctx, tmp_path, [HAPPY, ANGRY]) is not None  # and polling goes on

    webhook.stop()  # now the receiver is down altogether
    at(ctx, start + timedelta(minutes=1))
    assert deliver.deliver_due(ctx).failed == 1
    [row] = alerts(ctx)
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.next_attempt_at == start + timedelta(minutes=3)  # 1 min, then 2 min
    assert "s3cr3t-t0ken-abc" not in row.last_error

    at(ctx, start + timedelta(minutes=3))
    counts = deliver.deliver_due(ctx)
    assert (counts.failed, counts.gave_up) == (1, 1)
    [row] = alerts(ctx)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    at(ctx, start + timedelta(days=1))
    assert deliver.deliver_due(ctx).failed == 0  # given up: never sent again


def test_retry_delays_double_up_to_an_hour() -> None:
    assert [outbox.retry_delay(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


@SQLITE_ONLY
def test_an_unset_url_variable_is_that_channels_failure_only(alerts_ctx, webhook, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    monkeypatch.delenv("TEST_ALERTS_UNSET", raising=False)
    ctx = alerts_ctx([HAPPY], {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"]},
                     {"name": "broken", "url_env": "TEST_ALERTS_UNSET", "events": ["negative"]})
    poll(ctx)
    arrived(ctx, poll(ctx, tmp_path, [HAPPY, ANGRY]))
    counts = deliver.deliver_due(ctx)
    assert (counts.messages, counts.failed) == (1, 1)
    [broken] = alerts(ctx, channel="broken")
    assert broken.status == "pending" and "TEST_ALERTS_UNSET is not set" in broken.last_error
    assert len(webhook.posts) == 1


def test_an_expired_lease_is_claimed_again_a_live_one_is_not(alerts_ctx, webhook, monkeypatch, tmp_path) -> None:
    """A process that died after claiming (status "sending") holds its rows only until its
    lease runs out; then another sends them (at most one resend after a crash)."""
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    ctx = alerts_ctx([HAPPY], {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"]})
    poll(ctx)
    stored = poll(ctx, tmp_path, [HAPPY, ANGRY])
    arrived(ctx, stored)
    with ctx.session() as session:
        session.exec(update(Alert).values(status=AlertStatus.sending, lease_until=stored + outbox.LEASE, batch="dead"))
    at(ctx, stored + timedelta(minutes=5))
    assert deliver.deliver_due(ctx).messages == 0 and webhook.posts == []
    at(ctx, stored + outbox.LEASE + timedelta(seconds=1))
    assert deliver.deliver_due(ctx).messages == 1 and len(webhook.posts) == 1
    [row] = alerts(ctx)
    assert row.status == "sent" and row.batch != "dead"


def test_two_deliverers_at_once_send_each_alert_once(alerts_ctx, webhook, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    rows = [review(f"n{i}", f"Rude staff and cold food, visit number {i}.", 1, f"Guest {i}") for i in range(12)]
    ctx = alerts_ctx([HAPPY], {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative", "escalated"]})
    poll(ctx)
    arrived(ctx, poll(ctx, tmp_path, [HAPPY, *rows]))
    webhook.delay = 0.02  # so that the two runs overlap
    barrier = threading.Barrier(3)
    results: list[deliver.DeliveryCounts] = []

    def run() -> None:
        barrier.wait()
        results.append(deliver.deliver_due(ctx))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.sent for r in results) == 12 and sum(r.failed for r in results) == 0
    titles = [post.body["title"] for post in webhook.posts]
    assert len(titles) == 12 and len(set(titles)) == 12
    assert {a.status for a in alerts(ctx)} == {"sent"}


HOSTILE = review(
    "evil", "<script>alert('x')</script> <b>bold</b> {{ 7*7 }} {% raw %} \x1b[2J\x1b[31mred\x07 & done. Terrible!",
    1, "<img src=x onerror=alert(1)> {{ 6*7 }}",
)


@SQLITE_ONLY
def test_hostile_review_text_arrives_as_text(alerts_ctx, smtp, webhook, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_ALERTS_MAIL", smtp.url())
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    ctx = alerts_ctx([HAPPY], {"name": "mail", "url_env": "TEST_ALERTS_MAIL", "events": ["negative"]},
                     {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"]})
    poll(ctx)
    arrived(ctx, poll(ctx, tmp_path, [HAPPY, HOSTILE]))
    assert deliver.deliver_due(ctx).sent == 2
    [mail], [post] = smtp.mails, webhook.posts
    html = mail.html
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{ 7*7 }}" in html and "{{ 6*7 }}" in html  # as written: not rendered as a template
    for text in (mail.text, post.body["message"], post.body["title"], mail.subject, html):
        assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J\\x1b[31mred\\x07" in post.body["message"]
    assert "<script>alert('x')</script>" in post.body["message"]  # plain text: shown as written
    assert "{{ 7*7 }}" in post.body["message"] and "{{ 6*7 }}" in post.body["title"]


@SQLITE_ONLY
def test_nothing_is_recorded_without_channels_or_for_praise(alerts_ctx, tmp_path) -> None:
    ctx = alerts_ctx([HAPPY])
    poll(ctx)
    assert arrived(ctx, poll(ctx, tmp_path, [HAPPY, ANGRY])) == 0
    assert alerts(ctx) == []
    assert deliver.deliver_due(ctx) == deliver.DeliveryCounts()


@SQLITE_ONLY
def test_drafts_of_old_reviews_raise_no_waiting_alert(alerts_ctx, webhook, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    old = review("old1", "Awful, rude and slow.", 1, "Old", created_at="2020-01-05T10:00:00+00:00")
    ctx = alerts_ctx([old, ANGRY], {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["drafts_waiting"]},
                     drafts_waiting="12h")
    stored = poll(ctx)
    with ctx.session() as session:
        assert enqueue.waiting_drafts(session, ctx.config, stored + timedelta(hours=11)) == 0
        assert enqueue.waiting_drafts(session, ctx.config, stored + timedelta(hours=13)) == 1  # ANGRY's, not old1's
        assert enqueue.waiting_drafts(session, ctx.config, stored + timedelta(hours=14)) == 0
    [row] = alerts(ctx)
    with ctx.session() as session:
        draft_id = session.exec(select(Draft.id).where(Draft.review_id == row.review_id)).one()
    assert row.key == f"draft-waiting:{draft_id}" and f"/drafts/{draft_id}" in row.body


def test_keys_stay_unique_per_channel(alerts_ctx, monkeypatch, tmp_path) -> None:
    ctx = alerts_ctx([HAPPY], {"name": "a", "url_env": "A_URL", "events": ["negative"]},
                     {"name": "b", "url_env": "B_URL", "events": ["negative"]})
    poll(ctx)
    stored = poll(ctx, tmp_path, [HAPPY, ANGRY, ANGRY2])
    arrived(ctx, stored)
    with ctx.session() as session:
        pairs = session.exec(select(Alert.channel, Alert.key)).all()
        assert enqueue.reviews_arrived(session, ctx.config, source_id=1, stored_at=stored, baseline=False) == 0
    assert len(pairs) == 4 and len(set(pairs)) == 4
    with ctx.session() as session:
        assert session.exec(select(func.count()).select_from(Alert).where(col(Alert.review_id).is_(None))).one() == 0


@SQLITE_ONLY
def test_a_source_removed_from_the_config_raises_no_waiting_alert_and_its_alerts_are_left_out(
        alerts_ctx, make_context, monkeypatch, tmp_path) -> None:
    """The demo's bistro, or a closed branch: its old drafts do not keep alerting the
    owner, and `alerts list` leaves its alerts out, saying so."""
    hook = {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative", "drafts_waiting"]}
    ctx = alerts_ctx([HAPPY], hook, drafts_waiting="12h")
    poll(ctx)
    stored = poll(ctx, tmp_path, [HAPPY, ANGRY], alerts=True)
    assert [a.event for a in alerts(ctx)] == ["negative"]
    moved = make_context([{"name": "ours", "type": "file", "path": "reviews.jsonl"}],
                         extra=channels_toml(hook, drafts_waiting="12h"))
    with moved.session() as session:
        assert enqueue.waiting_drafts(session, moved.config, stored + timedelta(hours=13)) == 0
    with ctx.session() as session:  # still configured there: it does alert
        assert enqueue.waiting_drafts(session, ctx.config, stored + timedelta(hours=13)) == 1

    config = tmp_path / "config.toml"  # make_context wrote the moved config last
    listed = run_cli(config, "alerts", "list", "--format", "json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    assert "Left out: the reviews of imports" in listed.stderr
