"""The trends report (read side): review volume, mean rating, negative share, response
rate, reply time and the topics behind negative reviews, per day, week or month, by
source and by location, against the previous period of the same length.

`report()` is what the CLI (`reviewmon trends`) and the web dashboard call; it returns
plain dataclasses, and `TrendReport.to_dict()` is ready for JSON (ISO dates).

What the figures mean (README, "Trends"):
- a review counts on the UTC day it was written (models.written_at); removed reviews
  are left out. Weeks start on Monday, months are calendar months; the first and last
  bucket of a period may be cut short by it;
- negative: flagged by the sentiment pass;
- responded: it has an owner reply on the platform, or a draft of ours was posted
  (status posted or outdated);
- reply time: our reply's posted_at minus the review's written time. A reply written on
  the platform itself has no known time: it counts as a response but not in the median;
- topics: see topics.py. The sums it reads are kept by rollups.py.
"""


from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from service.config import DEFAULT_TOPICS
from service.errors import NotFound
from service.models import (
    Source,
    TrendDay,
    TrendTopicDay,
)
from service.trends.medians import median
from service.trends.periods import BUCKETS, Bucket, bucket_start, buckets_of, previous_period
from service.trends.rollups import refresh, unpack_seconds

log = logging.getLogger("reviewmon.trends")



NOTES = (
    "Days are UTC; weeks start on Monday; months are calendar months. "
    "The first and last bucket may be cut short by the period.",
    "Removed reviews are left out.",
    "Response rate counts owner replies on the platform and replies posted through reviewmon.",
    "Median reply time counts only replies posted through reviewmon (posted_at minus the review's written time): "
    "a reply written on the platform itself has no known time and is left out of the median.",
    "Topics count negative reviews that mention a [topics] keyword; one review may mention several topics.",
)




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
    left_out: tuple[int, ...] = ()  # sources no longer in the config

    def where(self, table: Any, first: date, last: date) -> list[Any]:
        conditions = [table.day >= first, table.day <= last]
        if self.source_id is not None:
            conditions.append(table.source_id == self.source_id)
        if self.left_out:
            conditions.append(table.source_id.not_in(self.left_out))
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
    location: str | None = None, topics: Mapping[str, Sequence[str]] | None = None, leave_out: Sequence[str] = (),
) -> TrendReport:
    """The figures of the reviews written from `start` to `end` (both included, UTC days),
    per bucket ("day", "week" or "month"), by source and by location, with the previous
    period of the same length. `source` and `location` narrow every figure (NotFound for
    a source that does not exist); `topics` is the [topics] keywords (default: the bundled
    ones; pass the configured ones, ctx.config.topics.keywords); the sources named in
    `leave_out` (no longer in the config) count nowhere.

    Brings the trend tables up to date first (refresh(), in a transaction of its own), so
    call it before the session has read or written anything, as the CLI does."""
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")
    lexicon = DEFAULT_TOPICS if topics is None else topics
    refresh(_engine(session), lexicon)
    source_names: dict[int, str] = dict(session.exec(select(Source.id, Source.name)).all())
    scope = _Scope(_source_id(source_names, source), location,
                   tuple(key for key, name in source_names.items() if name in leave_out))
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
        notes=NOTES + _left_out_note(sorted(source_names[key] for key in scope.left_out)),
    )


def _left_out_note(names: list[str]) -> tuple[str, ...]:
    if not names:
        return ()
    return (f"Left out: the reviews of {', '.join(names)}, no longer in the config "
            "(`reviewmon sources purge NAME` deletes them).",)


def filter_choices(session: Session, leave_out: Sequence[str] = ()) -> dict[str, list[str]]:
    """The sources and locations a report can be narrowed to, for a dashboard's menus.

    Read from the trend tables, which are up to date after report(): the same question put
    to reviews (SELECT DISTINCT location) reads every review, 0.6 s at a million."""
    sources = session.exec(select(Source.name).order_by(Source.name)).scalars().all()
    locations = session.exec(select(TrendDay.location).distinct().order_by(TrendDay.location)).scalars().all()
    return {"sources": [name for name in sources if name not in leave_out], "locations": [location for location in locations if location]}


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

    def bucketmedian(self, label: date) -> float | None:
        return median([self.by_bucket.get(label, [])])

    def median(self, current: bool, source_id: int | None = None, location: str | None = None) -> float | None:
        return median([
            values for (is_current, cell_source, cell_location), values in self.by_cell.items()
            if is_current == current and source_id in (None, cell_source) and location in (None, cell_location)
        ])


def _bucket_figures(
    daily: dict[date, _Sums], replies: _ReplyTimes, start: date, end: date, bucket: str
) -> list[BucketFigures]:
    result = []
    for label, first, last in buckets_of(start, end, bucket):
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        sums = _total(daily[day] for day in days if day in daily)
        result.append(BucketFigures(label, first, last, sums.figures(replies.bucketmedian(label))))
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
