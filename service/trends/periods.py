"""Periods and buckets of the trends: plain dates, the same on every database.

Days are UTC; weeks start on Monday; months are calendar months; the first and last
bucket of a period may be cut short by it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[str, ...] = ("day", "week", "month")


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


