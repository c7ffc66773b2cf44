"""The alerts table as a queue: which rows are due, claiming them, recording the outcome.

A row is claimable when it is pending and due (next_attempt_at empty or past), or when
it is "sending" under a lease that has run out (its process is presumed dead). Claiming
is one conditional UPDATE ... RETURNING in a short transaction of its own, so of two
processes claiming the same row exactly one gets it (PostgreSQL re-checks the condition
after the other's commit; SQLite takes one writer at a time). The claim sets a fresh
`batch` token on the rows it takes, and the outcome is recorded only where that token is
still there: a process whose lease was taken over records nothing.

The one gap: a process that dies after the channel accepted a message and before it
recorded that, leaves the rows "sending"; when the lease runs out they are sent again.
So a crash at that instant may deliver one message twice, never more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from service.config import AlertsConfig
from service.models import Alert, AlertStatus, Source

LEASE = timedelta(minutes=10)  # far longer than one send may take (deliver.SEND_TIMEOUT)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
REPORT_EVENTS = ("daily_report", "weekly_report")  # already digests: always sent on their own


@dataclass(frozen=True)
class Group:
    """Alerts of one channel that go out as one message."""

    channel: str
    ids: tuple[int, ...]


def claimable(now: datetime) -> Any:
    return or_(
        and_(Alert.status == AlertStatus.pending, or_(col(Alert.next_attempt_at).is_(None), Alert.next_attempt_at <= now)),
        and_(Alert.status == AlertStatus.sending, Alert.lease_until < now),
    )


def due_groups(session: Session, config: AlertsConfig, now: datetime) -> list[Group]:
    """What is due now, as messages: one per alert, except on a channel with a digest,
    whose alerts wait until the oldest is `digest` old and then go out together."""
    digests = {channel.name: channel.digest for channel in config.channels if channel.digest}
    rows = session.exec(
        select(Alert.id, Alert.channel, Alert.event, Alert.created_at).where(claimable(now)).order_by(Alert.id)
    ).all()
    groups: list[Group] = []
    held: dict[str, list[tuple[int, datetime]]] = {}
    for alert_id, channel, event, created_at in rows:
        if channel in digests and event not in REPORT_EVENTS:
            held.setdefault(channel, []).append((alert_id, created_at))
        else:
            groups.append(Group(channel, (alert_id,)))
    for channel, alerts in held.items():
        if min(created for _, created in alerts) <= now - digests[channel]:
            groups.append(Group(channel, tuple(alert_id for alert_id, _ in alerts)))
    return groups


def claim(session: Session, group: Group, now: datetime) -> tuple[str, list[Alert]]:
    """Take the group's rows that are still claimable; returns (batch token, rows taken)."""
    token = uuid.uuid4().hex
    taken = session.exec(
        update(Alert)
        .where(col(Alert.id).in_(group.ids), claimable(now))
        .values(status=AlertStatus.sending, lease_until=now + LEASE, batch=token)
        .returning(Alert.id)
    ).all()
    if not taken:
        return token, []
    ids = [row[0] for row in taken]
    return token, list(session.exec(select(Alert).where(col(Alert.id).in_(ids)).order_by(Alert.id)))


def record_sent(session: Session, token: str, alerts: list[Alert], now: datetime) -> None:
    session.exec(
        update(Alert)
        .where(col(Alert.id).in_([a.id for a in alerts]), Alert.status == AlertStatus.sending, Alert.batch == token)
        .values(status=AlertStatus.sent, sent_at=now, lease_until=None, next_attempt_at=None, last_error=None)
    )


def retry_delay(attempts: int) -> timedelta:
    """1 minute after the first failure, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def record_failed(session: Session, token: str, alerts: list[Alert], error: str, now: datetime, max_attempts: int) -> int:
    """Count a failed attempt on each alert; returns how many have now used up their tries."""
    gave_up = 0
    for alert in alerts:
        attempts = alert.attempts + 1
        final = attempts >= max_attempts
        gave_up += final
        session.exec(
            update(Alert)
            .where(Alert.id == alert.id, Alert.status == AlertStatus.sending, Alert.batch == token)
            .values(attempts=attempts, last_error=error, lease_until=None,
                    status=AlertStatus.failed if final else AlertStatus.pending,
                    next_attempt_at=None if final else now + retry_delay(attempts))
        )
    return gave_up


ALERT_FIELDS = ("id", "channel", "event", "key", "status", "attempts", "title", "created_at", "next_attempt_at",
                "sent_at", "last_error", "batch", "review_id", "source_id")


def alert_rows(session: Session, *, status: str | None = None, limit: int | None = None,
               leave_out: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """The outbox, newest first, without the alerts about the sources in `leave_out` (no
    longer in the config: queries.removed_sources)."""
    query = select(Alert).order_by(col(Alert.id).desc())
    if leave_out:
        gone = select(Source.id).where(col(Source.name).in_(list(leave_out)))
        query = query.where(or_(col(Alert.source_id).is_(None), col(Alert.source_id).not_in(gone)))
    if status:
        query = query.where(Alert.status == status)
    if limit:
        query = query.limit(limit)
    for alert in session.exec(query):
        yield {name: getattr(alert, name) for name in ALERT_FIELDS}
