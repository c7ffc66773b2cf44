"""The trend tables (write side): sums per UTC day, source and location, kept exact.

Why it is fast over millions of reviews: a report never reads reviews. It reads sums per
UTC day, source and location (trend_days, trend_topic_days): a year is a few thousand
rows whatever the number of reviews. Medians cannot be summed, so each of those rows also
keeps its day's reply times, sorted, in one blob.

Why the sums are exact: they are derived data, rebuilt by `refresh()` (run at the start
of every report). Triggers (migration 0004) note each change to reviews, sentiments and
drafts in trend_dirty, in the same transaction as the change and whoever makes it
(poller, posting, approvals, web app). refresh() recomputes the one trend_reviews row of
each noted review, tags it with topics if it is negative, and rebuilds the sums of the
days it was and is on. Edits, removals, rescoring and posting are all covered, and a
report pays only for what changed since the last one.
"""


from __future__ import annotations

import logging
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from service.config import DEFAULT_TOPICS
from service.models import (
    Draft,
    DraftStatus,
    Review,
    Sentiment,
    TrendDay,
    TrendDirty,
    TrendReview,
    TrendReviewTopic,
    TrendState,
    TrendTopicDay,
    written_at,
)
from service.trends.topics import TopicMatcher

log = logging.getLogger("reviewmon.trends")


ANSWERED = (DraftStatus.posted.value, DraftStatus.outdated.value)  # drafts whose reply is public
FULL_REBUILD_AT = 50_000  # more changed reviews than this: rebuilding everything is quicker...
FULL_REBUILD_SHARE = 0.6  # ...and so it is when this share of the stored reviews changed (a first import: all)
CHUNK = 500  # ids or days per IN (...) list
LEXICON_STATE = "topics lexicon"





# --- the only SQL that SQLite and PostgreSQL spell differently -----------------------------------


@dataclass(frozen=True)
class SqlTime:
    """The UTC calendar day of a stored time, and a stored time as whole seconds since
    1970. SQLite keeps times as UTC text ('2026-11-02 19:00:00.000000'); PostgreSQL as
    timestamptz, whose day depends on the session's time zone unless converted."""

    day: Callable[[Any], Any]
    epoch_seconds: Callable[[Any], Any]

    @classmethod
    def of(cls, dialect_name: str) -> SqlTime:
        if dialect_name == "sqlite":
            return cls(day=func.date, epoch_seconds=lambda moment: cast(func.strftime("%s", moment), Integer))
        return cls(
            day=lambda moment: cast(func.timezone("UTC", moment), Date),
            epoch_seconds=lambda moment: cast(func.floor(extract("epoch", moment)), BigInteger),
        )




@dataclass
class RefreshCounts:
    reviews: int = 0  # reviews whose trend rows were recomputed
    days: int = 0  # days whose sums were rebuilt
    full: bool = False  # everything was rebuilt
    retagged: bool = False  # the topic keywords changed, so every negative review was tagged again


def refresh(engine: Engine, topics: Mapping[str, Sequence[str]] | None = None) -> RefreshCounts:
    """Bring the trend tables up to date with every change noted since the last refresh,
    and with these [topics] keywords (default: the bundled ones).

    Runs in a transaction of its own, so that the write lock it needs is held only while
    it works. Cheap when nothing changed: one read and no write. Safe to run from several
    processes at once (serialised by the database)."""
    matcher = TopicMatcher(DEFAULT_TOPICS if topics is None else topics)
    with engine.connect() as connection:
        with connection.begin():
            noted = connection.execute(select(TrendDirty.id).limit(1)).first() is not None
            current = _tagged_with(connection) == matcher.fingerprint
        if not noted and current:
            return RefreshCounts()
        with connection.begin():
            return _refresh(connection, matcher)


def _refresh(connection: Connection, matcher: TopicMatcher) -> RefreshCounts:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(0x7472656E6473)))  # one refresh at a time
    # On SQLite this write must come first: it takes the write lock before anything is read,
    # so no other writer can slip in between.
    changed = sorted(set(connection.execute(delete(TrendDirty).returning(TrendDirty.review_id)).scalars()))
    retag = _tagged_with(connection) != matcher.fingerprint
    counts = RefreshCounts(reviews=len(changed), retagged=retag, full=_quicker_to_rebuild(connection, len(changed)))
    times = SqlTime.of(connection.dialect.name)
    if counts.full:
        connection.execute(delete(TrendReview))
        connection.execute(delete(TrendReviewTopic))
        connection.execute(insert(TrendReview).from_select(_FACT_COLUMNS, _facts(times)))
        days = None
    else:
        days = _recompute_reviews(connection, times, matcher, changed, tag=not retag)
        if retag:
            connection.execute(delete(TrendReviewTopic))
    if counts.full or retag:
        _tag(connection, matcher, None)
    counts.days = _rebuild_sums(connection, days)
    _rebuild_topic_sums(connection, None if retag else days, list(matcher.lexicon))
    _remember_lexicon(connection, matcher)
    return counts


def _quicker_to_rebuild(connection: Connection, changed: int) -> bool:
    """Rebuilding costs about 0.6 of recomputing as many reviews a chunk at a time (20,000
    on SQLite: 0.30 s against 0.53 s), so it pays once that share of the reviews changed.
    A cron poll's few changes never pay for counting the reviews."""
    if changed > FULL_REBUILD_AT:
        return True
    if changed < CHUNK:
        return False
    stored = connection.execute(select(func.count()).select_from(Review).where(col(Review.removed_at).is_(None))).scalar_one()
    return changed >= FULL_REBUILD_SHARE * stored


def _tagged_with(connection: Connection) -> str | None:
    """The fingerprint of the keywords that tagged the stored topics."""
    return connection.execute(select(TrendState.value).where(TrendState.name == LEXICON_STATE)).scalar()


_FACT_COLUMNS = ["review_id", "day", "source_id", "location", "rating", "negative", "responded", "reply_seconds"]


def _facts(times: SqlTime):
    """One trend_reviews row per review that is not removed."""
    written = written_at()
    answered = col(Draft.status).in_(ANSWERED)
    owner_replied = and_(col(Review.owner_reply).is_not(None), Review.owner_reply != "")
    return (
        select(
            Review.id, times.day(written), Review.source_id, func.coalesce(Review.location, ""), Review.rating,
            func.coalesce(Sentiment.negative, False),
            case((or_(owner_replied, answered), True), else_=False),
            case((and_(answered, col(Draft.posted_at).is_not(None)),
                  times.epoch_seconds(Draft.posted_at) - times.epoch_seconds(written)), else_=None),
        )
        .select_from(Review)
        .outerjoin(Sentiment, Sentiment.review_id == Review.id)
        .outerjoin(Draft, Draft.review_id == Review.id)
        .where(col(Review.removed_at).is_(None))
    )


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _recompute_reviews(
    connection: Connection, times: SqlTime, matcher: TopicMatcher, review_ids: list[int], *, tag: bool
) -> set[date]:
    """Recompute these reviews' trend rows; returns the days they were and now are on."""
    days: set[date] = set()
    day_of = select(TrendReview.day).distinct()
    for chunk in _chunks(review_ids):
        days.update(connection.execute(day_of.where(col(TrendReview.review_id).in_(chunk))).scalars())
        connection.execute(delete(TrendReview).where(col(TrendReview.review_id).in_(chunk)))
        connection.execute(delete(TrendReviewTopic).where(col(TrendReviewTopic.review_id).in_(chunk)))
        facts = _facts(times).where(col(Review.id).in_(chunk))
        connection.execute(insert(TrendReview).from_select(_FACT_COLUMNS, facts))
        days.update(connection.execute(day_of.where(col(TrendReview.review_id).in_(chunk))).scalars())
        if tag:
            _tag(connection, matcher, chunk)
    return days


def _tag(connection: Connection, matcher: TopicMatcher, review_ids: Sequence[int] | None, batch: int = 5000) -> None:
    """Store the topics of negative reviews (these, or all)."""
    fact = TrendReview
    query = (
        select(Review.id, Review.title, Review.text, Review.translation, fact.day, fact.source_id, fact.location)
        .join(fact, fact.review_id == Review.id)
        .where(col(fact.negative).is_(True))
        .order_by(Review.id)
        .limit(batch)
    )
    if review_ids is not None:
        query = query.where(col(Review.id).in_(review_ids))
    after = 0
    while rows := connection.execute(query.where(Review.id > after)).all():
        tags = [
            {"day": day, "source_id": source_id, "location": location, "topic": topic, "review_id": review_id}
            for review_id, title, text, translation, day, source_id, location in rows
            for topic in matcher.topics(title, text, translation)
        ]
        if tags:  # in key order: SQLite appends instead of inserting all over the table
            tags.sort(key=lambda t: (t["day"], t["source_id"], t["location"], t["topic"], t["review_id"]))
            connection.execute(insert(TrendReviewTopic), tags)
        after = rows[-1][0]


def _count_if(condition: Any):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_SUM_COLUMNS = ["day", "source_id", "location", "reviews", "rated", "rating_sum", "rating_1", "rating_2", "rating_3",
                "rating_4", "rating_5", "negative", "responded", "replies_timed"]


def _day_filter(column: Any, days: Sequence[date] | None) -> list[Any]:
    return [] if days is None else [col(column).in_(days)]


def _rebuild_sums(connection: Connection, days: set[date] | None) -> int:
    """Rebuild trend_days for these days (or all) from trend_reviews; returns how many days."""
    fact = TrendReview
    sums = select(
        fact.day, fact.source_id, fact.location, func.count(), func.count(fact.rating),
        func.coalesce(func.sum(fact.rating), 0), *(_count_if(fact.rating == stars) for stars in range(1, 6)),
        _count_if(col(fact.negative).is_(True)), _count_if(col(fact.responded).is_(True)),
        func.count(fact.reply_seconds),
    ).group_by(fact.day, fact.source_id, fact.location)
    for chunk in [None] if days is None else _chunks(sorted(days)):
        connection.execute(delete(TrendDay).where(*_day_filter(TrendDay.day, chunk)))
        connection.execute(insert(TrendDay).from_select(_SUM_COLUMNS, sums.where(*_day_filter(fact.day, chunk))))
        _store_reply_times(connection, chunk)
    if days is None:
        return connection.execute(select(func.count(func.distinct(TrendDay.day)))).scalar_one()
    return len(days)


def _store_reply_times(connection: Connection, days: Sequence[date] | None) -> None:
    fact = TrendReview
    rows = connection.execute(
        select(fact.day, fact.source_id, fact.location, fact.reply_seconds)
        .where(col(fact.reply_seconds).is_not(None), *_day_filter(fact.day, days))
        .order_by(fact.day, fact.source_id, fact.location, fact.reply_seconds)
    )
    blobs = [
        {"d": day, "s": source_id, "l": location, "blob": pack_seconds([row[3] for row in cell])}
        for (day, source_id, location), cell in groupby(rows, key=lambda row: (row[0], row[1], row[2]))
    ]
    if blobs:
        connection.execute(
            update(TrendDay)
            .where(TrendDay.day == bindparam("d"), TrendDay.source_id == bindparam("s"),
                   TrendDay.location == bindparam("l"))
            .values(reply_seconds=bindparam("blob")),
            blobs,
        )


def _rebuild_topic_sums(connection: Connection, days: set[date] | None, topics: Sequence[str]) -> None:
    """Rebuild trend_topic_days for these days (or all) from trend_review_topics."""
    tag = TrendReviewTopic
    sums = select(tag.topic, tag.day, tag.source_id, tag.location, func.count()).group_by(
        tag.topic, tag.day, tag.source_id, tag.location)
    columns = ["topic", "day", "source_id", "location", "reviews"]
    if days is None:
        connection.execute(delete(TrendTopicDay))
        connection.execute(insert(TrendTopicDay).from_select(columns, sums))
        return
    for chunk in _chunks(sorted(days)):
        # naming the topics lets SQLite seek straight to each topic's days (the table is keyed by topic first)
        connection.execute(
            delete(TrendTopicDay).where(col(TrendTopicDay.topic).in_(topics), col(TrendTopicDay.day).in_(chunk)))
        connection.execute(insert(TrendTopicDay).from_select(columns, sums.where(col(tag.day).in_(chunk))))


def _remember_lexicon(connection: Connection, matcher: TopicMatcher) -> None:
    connection.execute(delete(TrendState).where(TrendState.name == LEXICON_STATE))
    connection.execute(insert(TrendState).values(name=LEXICON_STATE, value=matcher.fingerprint))


INT32 = (-(2**31), 2**31 - 1)


def refresh_quietly(engine: Engine, topics: Mapping[str, Sequence[str]] | None = None) -> None:
    """refresh() right after a change (a poll, a rescore), so the next dashboard load does
    not pay for it. A failure is logged, never raised: the sums are derived data and the
    next report refreshes anyway."""
    try:
        refresh(engine, topics)
    except Exception:  # noqa: BLE001 (the caller's own work is committed already)
        log.exception("could not bring the trend tables up to date; the next report will")


def pack_seconds(seconds: Iterable[int]) -> bytes:
    """Sorted whole seconds as little-endian int32s. A reply time beyond 68 years is a wrong
    platform timestamp: it is clamped rather than allowed to stop every refresh."""
    values = array("i", sorted(min(max(value, INT32[0]), INT32[1]) for value in seconds))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def unpack_seconds(blob: bytes | None) -> array:
    values = array("i")
    if blob:
        values.frombytes(blob)
        if sys.byteorder == "big":
            values.byteswap()
    return values


