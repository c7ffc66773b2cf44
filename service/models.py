"""Database tables (SQLModel). The schema changes only through alembic/versions/.

Times are stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike.
Status values are plain strings (see the enums) so that adding one needs no type change.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, col


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite keeps no offset of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: reviewmon stores aware UTC times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL (SQLite's go far higher)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _time(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class DraftStatus(StrEnum):
    drafted = "drafted"
    approved = "approved"
    rejected = "rejected"
    posting = "posting"  # the request to the platform is under way (or a crash cut it short)
    posted = "posted"
    failed = "failed"  # the platform refused or could not be reached; kept for a retry
    outdated = "outdated"  # the review changed after our reply was posted: look again
    withdrawn = "withdrawn"  # we deleted our posted reply from the platform


class SourceStatus(StrEnum):
    ok = "ok"
    failing = "failing"  # the last poll failed for a reason that may pass (network, 5xx, bad page)
    needs_credentials = "needs credentials"  # a secret is missing, expired or refused: a person must act
    not_authorised = "not authorised"  # the platform refuses this account or project (403, quota 0)


class PollStatus(StrEnum):
    running = "running"
    ok = "ok"
    failed = "failed"


class RunKind(StrEnum):
    poll = "poll"  # `reviewmon poll`, the scheduler, "Poll now": what is new since the last poll
    backfill = "backfill"  # `reviewmon backfill`: the source's whole history, page by page


class Source(SQLModel, table=True):
    """A configured source, created on first poll; kept (with its reviews) if removed from the config."""

    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    type: str = Field(max_length=50)
    cursor: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = _time(nullable=False)
    last_polled_at: datetime | None = _time()
    last_success_at: datetime | None = _time()
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    failure_count: int = Field(default=0)
    next_poll_at: datetime | None = _time(index=True)
    status: str = Field(default=SourceStatus.ok, max_length=30)
    failing_since: datetime | None = _time()  # the first failure of the current run of failures
    lease_owner: str | None = Field(default=None, max_length=100)  # the process polling it now (see service/polling/claims.py)
    lease_until: datetime | None = _time()  # after this the lease is void: its process is presumed dead
    backfill_cursor: dict[str, Any] | None = Field(default=None, sa_type=JSONType)  # where an unfinished backfill resumes
    backfill_done_at: datetime | None = _time()


class Review(SQLModel, table=True):
    __tablename__ = "reviews"
    __table_args__ = (sa.UniqueConstraint("source_id", "external_id", name="uq_reviews_source_external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    external_id: str = Field(max_length=255)
    rating: int | None = None
    title: str | None = Field(default=None, sa_type=sa.Text)
    text: str = Field(sa_type=sa.Text)
    author: str | None = Field(default=None, sa_type=sa.Text)
    location: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime | None = _time()
    updated_at: datetime | None = _time()
    url: str | None = Field(default=None, sa_type=sa.Text)
    owner_reply: str | None = Field(default=None, sa_type=sa.Text)
    owner_reply_state: str | None = Field(default=None, max_length=50)  # the platform's moderation of it (Google: PENDING, ...)
    raw: Any = Field(default=None, sa_type=JSONType, nullable=True)
    fingerprint: str = Field(max_length=64, description="hash of the normalised fields: unchanged means skip")
    first_seen_at: datetime = _time(nullable=False)
    changed_at: datetime = _time(nullable=False)
    removed_at: datetime | None = _time()  # a full listing no longer had it; never deleted here
    excerpt: bool = Field(default=False)  # the platform gives only the start of the text (Yelp)
    language: str | None = Field(default=None, max_length=16)  # as the platform states it
    translation: str | None = Field(default=None, sa_type=sa.Text)  # the platform's English translation
    escalation: str | None = Field(default=None, sa_type=sa.Text)  # why an owner must handle it (legal, injury, ...)
    triage: str | None = Field(default=None, sa_type=sa.Text)  # why it looks like spam or a fake review
    text_hash: str | None = Field(default=None, max_length=64, index=True)  # finds the same text from several reviewers

    @property
    def written(self) -> datetime:
        """When it was written, as well as we know (written_at() below, in Python)."""
        return self.created_at or self.updated_at or self.first_seen_at


def written_at() -> sa.ColumnElement[datetime]:
    """When a review was written, as well as we know: the platform's creation time, else
    its last change (Google Play gives only that), else when we first saw it."""
    return sa.func.coalesce(Review.created_at, Review.updated_at, Review.first_seen_at)


# Every review list is newest first by written_at() (then id): with this index a page of
# a million reviews reads its 50 entries instead of sorting them all (bench/dashboard.py:
# GET /reviews 990 ms before, 7.6 ms after; a search for words no review holds still
# reads them all, 2.7 s).
sa.Index("ix_reviews_written_at", written_at(), Review.id)
# The suspicious view (service/desk/suspicious.py): the reviews with a triage mark that the
# platform still shows, newest first. Few among many: a partial index finds them, and
# counts them for the inbox's tab, without reading every review.
TRIAGED = sa.and_(col(Review.triage).is_not(None), col(Review.removed_at).is_(None))
sa.Index("ix_reviews_triaged", written_at(), Review.id, sqlite_where=TRIAGED, postgresql_where=TRIAGED)


class ReviewRevision(SQLModel, table=True):
    """What a review said before the reviewer edited it."""

    __tablename__ = "review_revisions"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="reviews.id", index=True)
    rating: int | None = None
    title: str | None = Field(default=None, sa_type=sa.Text)
    text: str = Field(sa_type=sa.Text)
    updated_at: datetime | None = _time()
    replaced_at: datetime = _time(nullable=False)


class Sentiment(SQLModel, table=True):
    """The latest verdict on a review; `reason` says in words why it is (not) negative."""

    __tablename__ = "sentiments"

    review_id: int = Field(foreign_key="reviews.id", primary_key=True)
    compound: float | None = None
    negative: bool = Field(index=True)
    language: str | None = Field(default=None, max_length=16)
    reason: str = Field(sa_type=sa.Text)
    scored_at: datetime = _time(nullable=False)


class Draft(SQLModel, table=True):
    """The one public reply drafted for a review, and whether it passed the policy guard."""

    __tablename__ = "drafts"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="reviews.id", unique=True)
    status: str = Field(max_length=20, index=True)
    text: str = Field(sa_type=sa.Text)
    template: str | None = Field(default=None, max_length=100)
    policy_ok: bool
    policy_problems: list[str] = Field(default_factory=list, sa_type=JSONType)
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)
    edited_by: str | None = Field(default=None, max_length=100)
    posted_at: datetime | None = _time()
    posted_text: str | None = Field(default=None, sa_type=sa.Text)
    platform_reply_id: str | None = Field(default=None, max_length=255)
    platform_state: str | None = Field(default=None, max_length=50)  # e.g. PENDING_PUBLISH, moderation
    post_error: str | None = Field(default=None, sa_type=sa.Text)
    confirmed_at: datetime | None = _time()  # a later poll showed our reply on the platform
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = _time()
    post_after: datetime | None = _time()  # cooling-off: not posted before this
    followup: str | None = Field(default=None, max_length=20)  # contacted | resolved | no answer
    followup_note: str | None = Field(default=None, sa_type=sa.Text)
    followup_at: datetime | None = _time()
    followup_by: str | None = Field(default=None, max_length=100)


SYSTEM_ACTOR = "reviewmon"  # who a draft's history names when reviewmon itself acted


class DraftEvent(SQLModel, table=True):
    """One line of a draft's history: who did what, when, and the text at that moment."""

    __tablename__ = "draft_events"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="drafts.id", index=True)
    at: datetime = _time(nullable=False)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=30)
    status: str = Field(max_length=20)
    text: str | None = Field(default=None, sa_type=sa.Text)
    detail: str | None = Field(default=None, sa_type=sa.Text)


class Role(StrEnum):
    owner = "owner"  # everything: reads, edits, approves, posts, manages users
    marketer = "marketer"  # reads reviews and trends
    admin = "admin"  # manages users, reads


class FollowUp(StrEnum):
    contacted = "contacted"
    resolved = "resolved"
    no_answer = "no answer"


class User(SQLModel, table=True):
    """A person who logs in to the web app. Passwords are stored only as argon2 hashes."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    created_at: datetime = _time(nullable=False)
    disabled: bool = Field(default=False)


class WebSession(SQLModel, table=True):
    """A logged-in browser (service/desk/sessions.py). Its cookie carries a random token;
    only the token's SHA-256 is kept, so this table opens no session to whoever reads it.
    Logging out deletes the row; a new password, a role change or disabling the user
    deletes all of theirs."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    created_at: datetime = _time(nullable=False)
    last_seen_at: datetime = _time(nullable=False)
    address: str | None = Field(default=None, max_length=64)  # the client's, at login


class SessionNote(SQLModel, table=True):
    """What a form's answer leaves for the page it redirects to (post/redirect/get), kept
    here rather than in the cookie, which is small and signed, not secret: a refusal with
    the text that was not saved, a new API token's secret (sealed: the cookie holds the
    other half). One per page and session; deleted when shown, and with its session
    (service/desk/sessions.py)."""

    __tablename__ = "session_notes"
    __table_args__ = (sa.UniqueConstraint("session_id", "page", name="uq_session_notes_session_id_page"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="web_sessions.id", ondelete="CASCADE")
    page: str = Field(max_length=100)  # the page that shows it: "/drafts/9"
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = _time(nullable=False, index=True)


class LoginFailure(SQLModel, table=True):
    """One login that did not succeed, wrong or refused (service/desk/logins.py): what
    throttling counts, what `reviewmon users list` and the failed_logins alert show.
    `name` is the name as typed, whether or not a user has it."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_address_at", "address", "at"), sa.Index("ix_login_failures_name_at", "name", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(nullable=False, index=True)
    address: str = Field(max_length=64)
    name: str = Field(max_length=100)
    cleared: bool = Field(default=False)  # the same address then logged in with this name: throttling forgets it


TOKEN_ACTOR = "token:"  # a draft's history names an API token's actions "token:NAME" (no user name starts so)


class ApiToken(SQLModel, table=True):
    """A program's key to the JSON API, acting with its role's rights. Stored only as the
    SHA-256 of the secret (the secret itself is shown once, when made); kept after it is
    revoked, so that its name in the drafts' history always means this one token."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _time(nullable=False)
    created_by: str | None = Field(default=None, max_length=100)
    last_used_at: datetime | None = _time()
    revoked_at: datetime | None = _time()


class PollRun(SQLModel, table=True):
    """One poll or backfill of one source: what it fetched, stored and drafted, or why it
    failed (`reviewmon runs`, the sources page). Kept for `[poll] keep_runs`."""

    __tablename__ = "poll_runs"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    kind: str = Field(default=RunKind.poll, max_length=20, sa_column_kwargs={"server_default": RunKind.poll.value})
    started_at: datetime = _time(nullable=False)
    finished_at: datetime | None = _time()
    status: str = Field(max_length=20)
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    drafted: int = 0
    error: str | None = Field(default=None, sa_type=sa.Text)
    problems: list[str] = Field(default_factory=list, sa_type=JSONType)


class AlertStatus(StrEnum):
    pending = "pending"  # waiting to be sent (or to be retried at next_attempt_at)
    sending = "sending"  # a process is delivering it now (until lease_until)
    sent = "sent"
    failed = "failed"  # gave up after the last attempt; kept with its error


class Alert(SQLModel, table=True):
    """One message for one channel: an outbox row, written in the same transaction as the
    event it reports, so an event is never lost and (unique channel + key) never told twice."""

    __tablename__ = "alerts"
    __table_args__ = (sa.UniqueConstraint("channel", "key", name="uq_alerts_channel_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=100)
    event: str = Field(max_length=30)
    key: str = Field(max_length=200)  # what makes it once-only, e.g. "review:42"
    title: str = Field(sa_type=sa.Text)
    body: str = Field(sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    review_id: int | None = Field(default=None, foreign_key="reviews.id", index=True)
    source_id: int | None = Field(default=None, foreign_key="sources.id")
    status: str = Field(default=AlertStatus.pending, max_length=20, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _time(nullable=False)
    next_attempt_at: datetime | None = _time()
    lease_until: datetime | None = _time()
    sent_at: datetime | None = _time()
    batch: str | None = Field(default=None, max_length=100)  # alerts sent together in one digest message


# Trends (service/trends/rollups.py). Derived data only: every row below can be rebuilt from the
# tables above, so there are no foreign keys into them. Triggers (migration 0004) note each
# change to reviews, sentiments and drafts in trend_dirty, whoever makes it (poller,
# posting, approvals, web app), in the same transaction as the change; rollups.refresh()
# recomputes what those notes touch. A SQLite migration that copies one of those three
# tables (batch_alter_table) drops its triggers and must create them again;
# tests/trends/test_trends.py checks they exist at head.


class TrendDirty(SQLModel, table=True):
    """A review whose trend figures may have changed since rollups.refresh() last ran.
    One row per change (not per review), so a change made while a refresh runs is never
    mistaken for one the refresh has already seen."""

    __tablename__ = "trend_dirty"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int


class TrendReview(SQLModel, table=True):
    """One review as the trends count it; removed reviews have none. Keyed by day first, so
    that SQLite keeps a day's reviews together and re-adding a day reads one stretch."""

    __tablename__ = "trend_reviews"
    __table_args__ = (sa.Index("ix_trend_reviews_review_id", "review_id", unique=True), {"sqlite_with_rowid": False})

    day: date = Field(primary_key=True)  # the UTC day it was written (queries.written_at)
    review_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source_id: int
    location: str = Field(sa_type=sa.Text)  # "" when the review has none
    rating: int | None = None
    negative: bool
    responded: bool  # an owner reply on the platform, or a draft we posted
    # our posted reply's posted_at minus the review's written time
    reply_seconds: int | None = Field(default=None, sa_type=sa.BigInteger)


class TrendReviewTopic(SQLModel, table=True):
    """A topic ([topics] keywords) that a negative review mentions, with the review's day,
    source and location, so that a day's topic sums read one stretch and join nothing."""

    __tablename__ = "trend_review_topics"
    __table_args__ = (sa.Index("ix_trend_review_topics_review_id", "review_id"), {"sqlite_with_rowid": False})

    day: date = Field(primary_key=True)
    source_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    location: str = Field(primary_key=True, sa_type=sa.Text)
    topic: str = Field(primary_key=True, sa_type=sa.Text)
    review_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class TrendDay(SQLModel, table=True):
    """The sums of trend_reviews per UTC day, source and location: what a report reads."""

    __tablename__ = "trend_days"
    __table_args__ = {"sqlite_with_rowid": False}  # SQLite keeps the rows in key order: ranges read in one sweep

    day: date = Field(primary_key=True)
    source_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    location: str = Field(primary_key=True, sa_type=sa.Text)
    reviews: int
    rated: int
    rating_sum: int
    rating_1: int
    rating_2: int
    rating_3: int
    rating_4: int
    rating_5: int
    negative: int
    responded: int
    replies_timed: int
    # the reply_seconds of the day's timed replies, sorted, as little-endian int32s: medians
    # over any period need every value, and one blob per day reads far faster than rows
    reply_seconds: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


class TrendTopicDay(SQLModel, table=True):
    """Negative reviews mentioning a topic, per UTC day, source and location. Keyed by topic
    first: a report sums each topic over a range of days, one stretch per topic."""

    __tablename__ = "trend_topic_days"
    __table_args__ = {"sqlite_with_rowid": False}

    topic: str = Field(primary_key=True, sa_type=sa.Text)
    day: date = Field(primary_key=True)
    source_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    location: str = Field(primary_key=True, sa_type=sa.Text)
    reviews: int


class TrendState(SQLModel, table=True):
    """Facts about the trend tables themselves, e.g. which topic keywords tagged them."""

    __tablename__ = "trend_state"

    name: str = Field(primary_key=True, max_length=50)
    value: str = Field(sa_type=sa.Text)
