"""Record alerts in the outbox, inside the caller's transaction (never committing).

Each function writes one row per channel that subscribes to the event, keyed so that the
same event is recorded once per channel: `INSERT ... ON CONFLICT (channel, key) DO
NOTHING`. A page stored again, a retried poll, a restarted process or two workers seeing
the same review all end at the unique constraint, never at a second message. Each
returns how many rows it added.

The poller calls `reviews_arrived` in the transaction of each stored page, and
`source_failed` / `source_recovered` in the one that records a poll's outcome;
`waiting_drafts` and `failed_logins` run on a timer (the worker, `reviewmon alerts send`):
a login attempt itself never writes an alert, so an existing name's failure costs what an
unknown name's does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.alerts.messages import (
    Message,
    ReviewFacts,
    draft_waiting_message,
    failed_logins_message,
    review_message,
    source_failing_message,
    source_recovered_message,
)
from service.config import Config
from service.models import Alert, AlertStatus, Draft, DraftStatus, LoginFailure, Review, Sentiment, Source, User

CHUNK = 200  # rows per INSERT (SQLite allows 32,766 bound values per statement)
FAILED_LOGINS_WINDOW = timedelta(hours=1)  # [alerts] failed_logins counts within this


def subscribers(config: Config, event: str) -> list[str]:
    """Names of the channels that want this event."""
    return [channel.name for channel in config.alerts.channels if event in channel.events]


def insert_alerts(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping any whose (channel, key) is already there."""
    rows = list(rows)
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"alerts need SQLite or PostgreSQL, not {dialect}")
    added = 0
    for start in range(0, len(rows), CHUNK):
        statement = (
            insert(Alert).values(rows[start:start + CHUNK])
            .on_conflict_do_nothing(index_elements=["channel", "key"])
            .returning(Alert.id)
        )
        added += len(session.exec(statement).all())
    return added


def outbox_row(channel: str, event: str, key: str, message: Message, now: datetime, **ids: int | None) -> dict[str, Any]:
    return {
        "channel": channel, "event": event, "key": key, "title": message.title, "body": message.body,
        "body_html": message.body_html, "status": AlertStatus.pending.value, "attempts": 0, "created_at": now,
        "review_id": ids.get("review_id"), "source_id": ids.get("source_id"),
    }


def reviews_arrived(session: Session, config: Config, *, source_id: int, stored_at: datetime, baseline: bool) -> int:
    """Alerts for the negative and escalated reviews of a page just stored at `stored_at`
    (the reviews scored in that transaction: new ones, and edited ones scored again).

    None when `baseline` (a source's first poll, a backfill: the past is not news) and
    none for a review written more than [alerts] max_age before it was stored. A channel
    subscribing to "escalated" gets an escalated review as such; one subscribing only to
    "negative" gets it as a negative one; one subscribing to both gets it once."""
    negative_to, escalated_to = subscribers(config, "negative"), subscribers(config, "escalated")
    if baseline or not (negative_to or escalated_to):
        return 0
    oldest = stored_at - config.alerts.max_age
    found = session.exec(
        select(Review, Sentiment, Source.name, Draft.id)
        .join(Sentiment, Sentiment.review_id == Review.id)
        .join(Source, Source.id == Review.source_id)
        .outerjoin(Draft, Draft.review_id == Review.id)
        .where(Review.source_id == source_id, Review.changed_at == stored_at, Sentiment.scored_at == stored_at,
               col(Sentiment.negative).is_(True), col(Review.removed_at).is_(None))
        .order_by(Review.id)
    ).all()
    rows = []
    for review, sentiment, source_name, draft_id in found:
        written = review.written
        if written < oldest:
            continue
        facts = ReviewFacts(
            review_id=review.id, source=source_name, location=review.location, rating=review.rating,
            author=review.author, title=review.title, text=review.text, written_at=written, url=review.url,
            reason=sentiment.reason, escalation=review.escalation, draft_id=draft_id,
        )
        messages: dict[str, Message] = {}
        for channel in config.alerts.channels:
            if review.escalation and channel.name in escalated_to:
                event = "escalated"
            elif channel.name in negative_to:
                event = "negative"
            else:
                continue
            message = messages.get(event) or messages.setdefault(event, review_message(facts, event))
            rows.append(outbox_row(channel.name, event, f"review:{review.id}", message, stored_at,
                             review_id=review.id, source_id=source_id))
    return insert_alerts(session, rows) if rows else 0


def source_failed(session: Session, config: Config, source: Source, now: datetime) -> int:
    """After a failed poll was recorded on `source`: once its failures in a row reach
    [alerts] source_failures, one alert for the whole run of failures."""
    channels = subscribers(config, "source_failing")
    if not channels or source.failure_count < config.alerts.source_failures:
        return 0
    since = source.failing_since or now
    message = source_failing_message(source.name, source.failure_count, since, source.last_error)
    key = f"source:{source.id}:failing:{since.isoformat()}"
    return insert_alerts(session, [outbox_row(c, "source_failing", key, message, now, source_id=source.id) for c in channels])


def source_recovered(session: Session, config: Config, source: Source, failing_since: datetime, failures: int,
                     now: datetime) -> int:
    """After a successful poll that ended `failures` failures in a row: an alert, if that
    run had been long enough to raise a "source_failing" one."""
    channels = subscribers(config, "source_recovered")
    if not channels or failures < config.alerts.source_failures:
        return 0
    message = source_recovered_message(source.name, failures, failing_since, now)
    key = f"source:{source.id}:recovered:{failing_since.isoformat()}"
    return insert_alerts(session, [outbox_row(c, "source_recovered", key, message, now, source_id=source.id) for c in channels])


def waiting_drafts(session: Session, config: Config, now: datetime) -> int:
    """Drafts still waiting for an owner (status drafted) [alerts] drafts_waiting after they
    were made; one alert each. Drafts for reviews that were already older than max_age
    when drafted (a first poll, a backfill) raise none, as those reviews raised none; nor
    do drafts of sources no longer in the config (the demo's, a closed branch's)."""
    channels = subscribers(config, "drafts_waiting")
    if not channels:
        return 0
    alerted = select(Alert.id).where(Alert.event == "drafts_waiting", Alert.review_id == Draft.review_id)
    found = session.exec(
        select(Draft, Review, Source.name)
        .join(Review, Review.id == Draft.review_id)
        .join(Source, Source.id == Review.source_id)
        .where(Draft.status == DraftStatus.drafted, Draft.created_at <= now - config.alerts.drafts_waiting,
               col(Source.name).in_([source.name for source in config.sources]), ~alerted.exists())
        .order_by(Draft.id)
    ).all()
    rows = []
    for draft, review, source_name in found:
        written = review.written
        if written < draft.created_at - config.alerts.max_age:
            continue
        message = draft_waiting_message(draft.id, review.id, source_name, review.author, review.rating,
                                        draft.created_at, now)
        rows += [outbox_row(c, "drafts_waiting", f"draft-waiting:{draft.id}", message, now,
                      review_id=review.id, source_id=review.source_id) for c in channels]
    return insert_alerts(session, rows) if rows else 0


def failed_logins(session: Session, config: Config, now: datetime) -> int:
    """An alert for each user whose name has had [alerts] failed_logins failed logins in
    the last hour, from whatever addresses: once per user and UTC day. Names nobody has
    are left to throttling (a stranger trying names raises no alert per name)."""
    channels = subscribers(config, "failed_logins")
    if not channels:
        return 0
    since = now - FAILED_LOGINS_WINDOW
    found = session.exec(
        select(User.id, User.name, func.count(), func.min(LoginFailure.at), func.max(LoginFailure.at))
        .join(LoginFailure, LoginFailure.name == User.name)
        .where(LoginFailure.at > since).group_by(User.id, User.name)
        .having(func.count() >= config.alerts.failed_logins)
    ).all()
    rows = []
    for user_id, name, count, first, last in found:
        addresses = session.exec(
            select(LoginFailure.address, func.count()).where(LoginFailure.name == name, LoginFailure.at > since)
            .group_by(LoginFailure.address).order_by(func.count().desc(), LoginFailure.address)).all()
        message = failed_logins_message(name, count, first, last, list(addresses))
        key = f"failed-logins:{user_id}:{now.date().isoformat()}"
        rows += [outbox_row(c, "failed_logins", key, message, now) for c in channels]
    return insert_alerts(session, rows) if rows else 0
