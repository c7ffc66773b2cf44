"""The marketers' numbers: review volume, mean rating, negative share, response rate,
reply time and the topics behind negative reviews, per day, week or month, by source and
by location, against the previous period of the same length.

`report()` is what the CLI (`reviewmon trends`) and the web dashboard call; it returns
plain dataclasses, and `TrendReport.to_dict()` is ready for JSON (ISO dates).

What the figures mean (README, "Trends"):
- a review counts on the UTC day it was written (queries.written_at); removed reviews
  are left out. Weeks start on Monday, months are calendar months; the first and last
  bucket of a period may be cut short by it;
- negative: flagged by the sentiment pass;
- responded: it has an owner reply on the platform, or a draft of ours was posted
  (status posted or outdated);
- reply time: our reply's posted_at minus the review's written time. A reply written on
  the platform itself has no known time: it counts as a response but not in the median;
- topics: [topics] keywords found in a negative review's title, text or translation
  (whole words, a trailing * matches any ending, as for [escalation]).

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

import hashlib
import json
import logging
import re
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
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
from sqlmodel import Session, col

from service import marks
from service.config import DEFAULT_TOPICS
from service.errors import NotFound
from service.models import (
    Draft,
    DraftStatus,
    Review,
    Sentiment,
    Source,
    TrendDay,
    TrendDirty,
    TrendReview,
    TrendReviewTopic,
    TrendState,
    TrendTopicDay,
)
from service.queries import written_at

log = logging.getLogger("reviewmon.trends")

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[str, ...] = ("day", "week", "month")
ANSWERED = (DraftStatus.posted.value, DraftStatus.outdated.value)  # drafts whose reply is public
FULL_REBUILD_AT = 50_000  # more changed reviews than this: rebuilding everything is quicker...
FULL_REBUILD_SHARE = 0.6  # ...and so it is when this share of the stored reviews changed (a first import: all)
CHUNK = 500  # ids or days per IN (...) list
LEXICON_STATE = "topics lexicon"

NOTES = (
    "Days are UTC; weeks start on Monday; months are calendar months. "
    "The first and last bucket may be cut short by the period.",
    "Removed reviews are left out.",
    "Response rate counts owner replies on the platform and replies posted through reviewmon.",
    "Median reply time counts only replies posted through reviewmon (posted_at minus the review's written time): "
    "a reply written on the platform itself has no known time and is left out of the median.",
    "Topics count negative reviews that mention a [topics] keyword; one review may mention several topics.",
)


# --- periods and buckets: plain dates, the same on every database --------------------------------


def bucket_start(day: date, bucket: str) -> date:
    """The calendar bucket a day falls in, named by its first day."""
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")


def _next_bucket(start: date, bucket: str) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _previous_bucket(start: date, bucket: str) -> date:
    return bucket_start(start - timedelta(days=1), bucket)


def default_start(end: date, bucket: str, count: int = 12) -> date:
    """The first day of the last `count` buckets up to `end` (the last one is the current,
    unfinished bucket): `reviewmon trends` without --from shows the last 12 weeks."""
    start = bucket_start(end, bucket)
    for _ in range(count - 1):
        start = _previous_bucket(start, bucket)
    return start


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same number of days just before [start, end]."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def buckets_of(start: date, end: date, bucket: str) -> list[tuple[date, date, date]]:
    """(calendar start, first day inside the period, last day inside the period) of each bucket."""
    result = []
    label = bucket_start(start, bucket)
    while label <= end:
        following = _next_bucket(label, bucket)
        result.append((label, max(label, start), min(following - timedelta(days=1), end)))
        label = following
    return result


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


# --- topics --------------------------------------------------------------------------------------


class TopicMatcher:
    """Finds the [topics] a review mentions, with the rules of [escalation] keywords (whole
    words; a trailing * matches any ending; case and Unicode width ignored).

    Tagging a million reviews must take seconds, and a regular expression per keyword tried
    at every position of every text does not (about 60 µs a review). So a text is split
    into its words once: one-word keywords are then a set intersection, prefixes a
    bisection of the sorted words, and only keywords of several words (or with punctuation)
    run their own expression, and only on texts that have all their words."""

    def __init__(self, lexicon: Mapping[str, Sequence[str]]):
        self.lexicon = {topic: list(words) for topic, words in lexicon.items()}
        self.rules = {topic: _TopicRule.of(words) for topic, words in self.lexicon.items()}

    @property
    def fingerprint(self) -> str:
        """Changes when the keywords do: the stored topics must then be found again."""
        return hashlib.sha256(json.dumps(self.lexicon, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def topics(self, *texts: str | None) -> list[str]:
        words = _Words(marks._fold(" ".join(text for text in texts if text)))
        return [topic for topic, rule in self.rules.items() if rule.found(words)]


_WORD = re.compile(r"\w+")
_ASCII_NON_WORD = bytes.maketrans(
    bytes(c for c in range(128) if not (chr(c).isalnum() or c == ord("_"))),
    b" " * sum(1 for c in range(128) if not (chr(c).isalnum() or c == ord("_"))),
)


def _split_words(body: str) -> list[str]:
    """The runs of word characters in a text; without the regex for ASCII text (most reviews): 3x faster."""
    if body.isascii():
        return body.encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()
    return _WORD.findall(body)


class _Words:
    """The words of a folded text."""

    def __init__(self, body: str):
        self.body = body
        self.set = set(_split_words(body))
        self.sorted = sorted(self.set)

    def has_prefix(self, prefix: str) -> bool:
        at = bisect_left(self.sorted, prefix)
        return at < len(self.sorted) and self.sorted[at].startswith(prefix)


@dataclass(frozen=True)
class _Phrase:
    """A keyword of several words or with punctuation: every one of its words must be in the
    text (the last as a prefix if it ends in *) before its expression is worth running."""

    inner: frozenset[str]
    last: str
    prefix: bool
    pattern: re.Pattern[str]

    def found(self, words: _Words) -> bool:
        if not self.inner <= words.set:
            return False
        if self.last and not (words.has_prefix(self.last) if self.prefix else self.last in words.set):
            return False
        return self.pattern.search(words.body) is not None


@dataclass(frozen=True)
class _TopicRule:
    words: frozenset[str]  # one-word keywords
    prefixes: tuple[str, ...]  # one-word keywords ending in *
    phrases: tuple[_Phrase, ...]

    @classmethod
    def of(cls, keywords: Sequence[str]) -> _TopicRule:
        words, prefixes, phrases = set(), [], []
        for keyword in keywords:
            folded = marks._fold(keyword.strip())
            core, prefix = folded.rstrip("*"), folded.endswith("*")
            if _WORD.fullmatch(core) and prefix:
                prefixes.append(core)
            elif _WORD.fullmatch(core):
                words.add(core)
            else:
                parts = _WORD.findall(core)
                phrases.append(_Phrase(frozenset(parts[:-1]), parts[-1] if parts else "", prefix,
                                       marks._keyword_pattern(keyword)))
        return cls(frozenset(words), tuple(prefixes), tuple(phrases))

    def found(self, words: _Words) -> bool:
        if not self.words.isdisjoint(words.set):
            return True
        for prefix in self.prefixes:  # a loop, not any(): this runs a few million times per rebuild
            if words.has_prefix(prefix):
                return True
        for phrase in self.phrases:
            if phrase.found(words):
                return True
        return False


# --- keeping the trend tables up to date ---------------------------------------------------------


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


# --- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The figures of a set of reviews. Shares and means are None when there is nothing to
    divide by (no reviews, no ratings, no timed replies)."""

    reviews: int = 0
    rated: int = 0  # reviews with a star rating
    mean_rating: float | None = None
    negative: int = 0
    negative_share: float | None = None
    responded: int = 0
    response_rate: float | None = None
    replies_timed: int = 0  # replies posted through reviewmon, whose reply time is known
    median_reply_hours: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Change:
    """This period minus the previous one. reviews_relative is a fraction (0.25: a quarter
    more reviews); the others are differences of the figures (shares in fractions)."""

    reviews: int
    reviews_relative: float | None
    mean_rating: float | None
    negative_share: float | None
    response_rate: float | None
    median_reply_hours: float | None

    @classmethod
    def between(cls, now: Figures, before: Figures) -> Change:
        def difference(name: str, digits: int) -> float | None:
            a, b = getattr(now, name), getattr(before, name)
            return None if a is None or b is None else round(a - b, digits)

        return cls(
            reviews=now.reviews - before.reviews,
            reviews_relative=round((now.reviews - before.reviews) / before.reviews, 4) if before.reviews else None,
            mean_rating=difference("mean_rating", 2),
            negative_share=difference("negative_share", 4),
            response_rate=difference("response_rate", 4),
            median_reply_hours=difference("median_reply_hours", 2),
        )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class BucketFigures:
    bucket: date  # the calendar bucket's first day (a Monday, the 1st of a month)
    start: date  # the first day of it inside the period
    end: date  # the last day of it inside the period
    figures: Figures

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket.isoformat(), "start": self.start.isoformat(), "end": self.end.isoformat(),
                **self.figures.to_dict()}


@dataclass(frozen=True)
class GroupFigures:
    """One source or location over the period, and over the previous one."""

    name: str | None  # a location may be None: reviews without one
    figures: Figures
    previous: Figures
    change: Change

    def to_dict(self, key: str) -> dict[str, Any]:
        return {key: self.name, **self.figures.to_dict(), "previous": self.previous.to_dict(),
                "change": self.change.to_dict()}


@dataclass(frozen=True)
class TopicFigures:
    topic: str
    reviews: int  # negative reviews in the period that mention it
    share: float | None  # of the period's negative reviews
    previous: int
    change: int

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "reviews": self.reviews, "share": self.share, "previous": self.previous,
                "change": self.change}


@dataclass(frozen=True)
class TrendReport:
    start: date
    end: date
    bucket: str
    source: str | None
    location: str | None
    previous_start: date
    previous_end: date
    totals: Figures
    previous: Figures
    change: Change
    ratings: dict[str, int]  # "1".."5" and "none": reviews per star rating in the period
    previous_ratings: dict[str, int]
    buckets: list[BucketFigures]
    by_source: list[GroupFigures]
    by_location: list[GroupFigures]
    topics: list[TopicFigures]
    notes: tuple[str, ...] = NOTES

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: ISO dates, None as null."""
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat(),
                       "days": (self.end - self.start).days + 1, "bucket": self.bucket},
            "previous_period": {"start": self.previous_start.isoformat(), "end": self.previous_end.isoformat()},
            "filters": {"source": self.source, "location": self.location},
            "totals": self.totals.to_dict(),
            "previous": self.previous.to_dict(),
            "change": self.change.to_dict(),
            "ratings": dict(self.ratings),
            "previous_ratings": dict(self.previous_ratings),
            "buckets": [b.to_dict() for b in self.buckets],
            "by_source": [g.to_dict("source") for g in self.by_source],
            "by_location": [g.to_dict("location") for g in self.by_location],
            "topics": [t.to_dict() for t in self.topics],
            "notes": list(self.notes),
        }


@dataclass
class _Sums:
    """Counts that add up across days, sources and locations."""

    reviews: int = 0
    rated: int = 0
    rating_sum: int = 0
    negative: int = 0
    responded: int = 0
    replies_timed: int = 0
    stars: list[int] = field(default_factory=lambda: [0] * 5)

    def add(self, other: _Sums) -> None:
        self.reviews += other.reviews
        self.rated += other.rated
        self.rating_sum += other.rating_sum
        self.negative += other.negative
        self.responded += other.responded
        self.replies_timed += other.replies_timed
        self.stars = [a + b for a, b in zip(self.stars, other.stars, strict=True)]

    def figures(self, median_seconds: float | None) -> Figures:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return Figures(
            reviews=self.reviews, rated=self.rated,
            mean_rating=round(self.rating_sum / self.rated, 2) if self.rated else None,
            negative=self.negative, negative_share=share(self.negative, self.reviews),
            responded=self.responded, response_rate=share(self.responded, self.reviews),
            replies_timed=self.replies_timed,
            median_reply_hours=None if median_seconds is None else round(median_seconds / 3600, 2),
        )

    def ratings(self) -> dict[str, int]:
        return {**{str(stars): n for stars, n in enumerate(self.stars, start=1)}, "none": self.reviews - self.rated}


def _sum_columns(table: Any) -> list[Any]:
    return [func.sum(table.reviews), func.sum(table.rated), func.sum(table.rating_sum), func.sum(table.negative),
            func.sum(table.responded), func.sum(table.replies_timed),
            *(func.sum(getattr(table, f"rating_{stars}")) for stars in range(1, 6))]


def _sums(values: Sequence[Any]) -> _Sums:
    reviews, rated, rating_sum, negative, responded, timed, *stars = (int(v or 0) for v in values)
    return _Sums(reviews, rated, rating_sum, negative, responded, timed, stars)


Cell = tuple[int, str]  # (source id, location): the finest grouping the trend tables keep


@dataclass(frozen=True)
class _Scope:
    """A report's filters, as SQL conditions on trend_days and trend_topic_days."""

    source_id: int | None = None
    location: str | None = None

    def where(self, table: Any, first: date, last: date) -> list[Any]:
        conditions = [table.day >= first, table.day <= last]
        if self.source_id is not None:
            conditions.append(table.source_id == self.source_id)
        if self.location is not None:
            conditions.append(table.location == self.location)
        return conditions


# Each statement covers one period: SQLite sums two plain ranges faster than one range
# split by a CASE.


def _daily_statement(scope: _Scope, first: date, last: date) -> Select:
    return (
        select(TrendDay.day, *_sum_columns(TrendDay))
        .where(*scope.where(TrendDay, first, last))
        .group_by(TrendDay.day)
    )


def _cell_statement(scope: _Scope, first: date, last: date) -> Select:
    return (
        select(TrendDay.source_id, TrendDay.location, *_sum_columns(TrendDay))
        .where(*scope.where(TrendDay, first, last))
        .group_by(TrendDay.source_id, TrendDay.location)
    )


def _reply_statement(scope: _Scope, first: date, last: date) -> Select:
    return (
        select(TrendDay.day, TrendDay.source_id, TrendDay.location, TrendDay.reply_seconds)
        .where(*scope.where(TrendDay, first, last), TrendDay.replies_timed > 0)
    )


def _topic_statement(scope: _Scope, first: date, last: date, topics: Sequence[str]) -> Select:
    return (
        select(TrendTopicDay.topic, func.sum(TrendTopicDay.reviews))
        .where(col(TrendTopicDay.topic).in_(topics), *scope.where(TrendTopicDay, first, last))
        .group_by(TrendTopicDay.topic)
    )


def report_statements(
    start: date, end: date, *, topics: Sequence[str] = tuple(DEFAULT_TOPICS), source_id: int | None = None,
    location: str | None = None,
) -> list[Select]:
    """The SQL a report runs once the trend tables are up to date (for benchmarks and EXPLAIN)."""
    scope, (previous_start, previous_end) = _Scope(source_id, location), previous_period(start, end)
    return [
        _daily_statement(scope, start, end),
        _cell_statement(scope, start, end), _cell_statement(scope, previous_start, previous_end),
        _reply_statement(scope, previous_start, end),
        _topic_statement(scope, start, end, topics), _topic_statement(scope, previous_start, previous_end, topics),
    ]


def report(
    session: Session, *, start: date, end: date, bucket: Bucket = "week", source: str | None = None,
    location: str | None = None, topics: Mapping[str, Sequence[str]] | None = None,
) -> TrendReport:
    """The figures of the reviews written from `start` to `end` (both included, UTC days),
    per bucket ("day", "week" or "month"), by source and by location, with the previous
    period of the same length. `source` and `location` narrow every figure (NotFound for
    a source that does not exist); `topics` is the [topics] keywords (default: the bundled
    ones; pass the configured ones, ctx.config.topics.keywords).

    Brings the trend tables up to date first (refresh(), in a transaction of its own), so
    call it before the session has read or written anything, as the CLI does."""
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")
    lexicon = DEFAULT_TOPICS if topics is None else topics
    refresh(_engine(session), lexicon)
    source_names: dict[int, str] = dict(session.exec(select(Source.id, Source.name)).all())
    scope = _Scope(_source_id(source_names, source), location)
    previous_start, previous_end = previous_period(start, end)

    daily = {row[0]: _sums(row[1:]) for row in session.exec(_daily_statement(scope, start, end))}
    now_cells = _cell_sums(session, scope, start, end)
    then_cells = _cell_sums(session, scope, previous_start, previous_end)
    replies = _ReplyTimes.read(session, scope, start, end, previous_start, bucket)
    now_topics = dict(session.exec(_topic_statement(scope, start, end, list(lexicon))).all())
    then_topics = dict(session.exec(_topic_statement(scope, previous_start, previous_end, list(lexicon))).all())

    current, before = _total(now_cells.values()), _total(then_cells.values())
    totals, previous = current.figures(replies.median(True)), before.figures(replies.median(False))
    return TrendReport(
        start=start, end=end, bucket=bucket, source=source, location=location,
        previous_start=previous_start, previous_end=previous_end,
        totals=totals, previous=previous, change=Change.between(totals, previous),
        ratings=current.ratings(), previous_ratings=before.ratings(),
        buckets=_bucket_figures(daily, replies, start, end, bucket),
        by_source=_group_figures(now_cells, then_cells, replies, by="source_id", name=lambda key: source_names[key]),
        by_location=_group_figures(now_cells, then_cells, replies, by="location", name=lambda key: key or None),
        topics=_topic_figures(now_topics, then_topics, lexicon, current.negative),
    )


def refresh_quietly(engine: Engine, topics: Mapping[str, Sequence[str]] | None = None) -> None:
    """refresh() right after a change (a poll, a rescore), so the next dashboard load does
    not pay for it. A failure is logged, never raised: the sums are derived data and the
    next report refreshes anyway."""
    try:
        refresh(engine, topics)
    except Exception:  # noqa: BLE001 (the caller's own work is committed already)
        log.exception("could not bring the trend tables up to date; the next report will")


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The sources and locations a report can be narrowed to, for a dashboard's menus.

    Read from the trend tables, which are up to date after report(): the same question put
    to reviews (SELECT DISTINCT location) reads every review, 0.6 s at a million."""
    sources = session.exec(select(Source.name).order_by(Source.name)).scalars().all()
    locations = session.exec(select(TrendDay.location).distinct().order_by(TrendDay.location)).scalars().all()
    return {"sources": list(sources), "locations": [location for location in locations if location]}


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _source_id(names: dict[int, str], source: str | None) -> int | None:
    if source is None:
        return None
    for source_id, name in names.items():
        if name == source:
            return source_id
    raise NotFound(f"no source named {source!r} (sources: {', '.join(sorted(names.values())) or 'none'})")


def _cell_sums(session: Session, scope: _Scope, first: date, last: date) -> dict[Cell, _Sums]:
    return {(row[0], row[1]): _sums(row[2:]) for row in session.exec(_cell_statement(scope, first, last))}


def _total(parts: Iterable[_Sums]) -> _Sums:
    total = _Sums()
    for part in parts:
        total.add(part)
    return total


class _ReplyTimes:
    """The timed replies of both periods, for medians per bucket, source, location and period.

    Each day's reply times come sorted (trend_days.reply_seconds). They are gathered and
    sorted once per bucket and once per (period, source, location); a median over several
    of those sorted lists is then found by bisecting them, without merging them."""

    def __init__(self) -> None:
        self.by_bucket: dict[date, list[int]] = {}
        self.by_cell: dict[tuple[bool, int, str], list[int]] = {}

    @classmethod
    def read(
        cls, session: Session, scope: _Scope, start: date, end: date, previous_start: date, bucket: str
    ) -> _ReplyTimes:
        buckets: dict[date, array] = {}
        cells: dict[tuple[bool, int, str], array] = {}
        labels: dict[date, date] = {}
        for day, source_id, location, blob in session.exec(_reply_statement(scope, previous_start, end)):
            seconds = unpack_seconds(blob)
            current = day >= start
            cells.setdefault((current, source_id, location), array("i")).extend(seconds)
            if current:
                label = labels.get(day) or labels.setdefault(day, bucket_start(day, bucket))
                buckets.setdefault(label, array("i")).extend(seconds)
        times = cls()
        times.by_bucket = {label: sorted(values) for label, values in buckets.items()}
        times.by_cell = {key: sorted(values) for key, values in cells.items()}
        return times

    def bucket_median(self, label: date) -> float | None:
        return _median([self.by_bucket.get(label, [])])

    def median(self, current: bool, source_id: int | None = None, location: str | None = None) -> float | None:
        return _median([
            values for (is_current, cell_source, cell_location), values in self.by_cell.items()
            if is_current == current and source_id in (None, cell_source) and location in (None, cell_location)
        ])


def _median(sorted_lists: list[list[int]]) -> float | None:
    """The median of the union of sorted lists (the mean of the middle two for an even count)."""
    count = sum(map(len, sorted_lists))
    if not count:
        return None
    middle = _kth_smallest(sorted_lists, count // 2)
    if count % 2:
        return float(middle)
    return (_kth_smallest(sorted_lists, count // 2 - 1) + middle) / 2


def _kth_smallest(sorted_lists: list[list[int]], k: int) -> int:
    """The k-th smallest (from 0) value of the union of sorted integer lists."""
    lists = [values for values in sorted_lists if values]
    if len(lists) == 1:
        return lists[0][k]
    low, high = min(values[0] for values in lists), max(values[-1] for values in lists)
    while low < high:  # the smallest value with more than k values at or below it
        middle = (low + high) // 2
        if sum(bisect_right(values, middle) for values in lists) > k:
            high = middle
        else:
            low = middle + 1
    return low


def _bucket_figures(
    daily: dict[date, _Sums], replies: _ReplyTimes, start: date, end: date, bucket: str
) -> list[BucketFigures]:
    result = []
    for label, first, last in buckets_of(start, end, bucket):
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        sums = _total(daily[day] for day in days if day in daily)
        result.append(BucketFigures(label, first, last, sums.figures(replies.bucket_median(label))))
    return result


def _group_figures(
    now_cells: dict[Cell, _Sums], then_cells: dict[Cell, _Sums], replies: _ReplyTimes, *, by: str,
    name: Callable[[Any], str | None],
) -> list[GroupFigures]:
    """By source or by location, both periods."""
    position = 0 if by == "source_id" else 1
    now: dict[Any, _Sums] = {}
    then: dict[Any, _Sums] = {}
    for cells, into in ((now_cells, now), (then_cells, then)):
        for cell, sums in cells.items():
            into.setdefault(cell[position], _Sums()).add(sums)
    result = []
    for key in now.keys() | then.keys():
        figures = now.get(key, _Sums()).figures(replies.median(True, **{by: key}))
        previous = then.get(key, _Sums()).figures(replies.median(False, **{by: key}))
        result.append(GroupFigures(name(key), figures, previous, Change.between(figures, previous)))
    return sorted(result, key=lambda g: (-g.figures.reviews, -g.previous.reviews, g.name is None, g.name or ""))


def _topic_figures(
    now: dict[str, int], then: dict[str, int], lexicon: Mapping[str, Sequence[str]], negatives: int
) -> list[TopicFigures]:
    """Every [topics] topic, most mentioned first (ties in the order of the config)."""
    result = []
    for topic in lexicon:
        reviews, previous = int(now.get(topic) or 0), int(then.get(topic) or 0)
        share = round(reviews / negatives, 4) if negatives else None
        result.append(TopicFigures(topic, reviews, share, previous, reviews - previous))
    return sorted(result, key=lambda t: -t.reviews)
