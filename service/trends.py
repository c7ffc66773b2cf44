"""Review trends per week: volume, mean rating and the share flagged negative.

Aggregated in SQL (one GROUP BY), so the cost does not grow with what Python holds.
A review is counted in the week it was written on the platform (queries.written_at). Weeks start on Monday (UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, case, cast, func, literal_column
from sqlmodel import Session, select

from service.models import Review, Sentiment, Source
from service.queries import written_at


def _week_start(session: Session, moment: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.date(moment, literal_column("'weekday 0'"), literal_column("'-6 days'"))
    return func.date(func.date_trunc("week", func.timezone("UTC", moment)))


def weekly(session: Session, *, source: str | None = None) -> Iterator[dict[str, Any]]:
    moment = written_at()
    week = _week_start(session, moment).label("week")
    negative = cast(case((Sentiment.negative, 1), else_=0), Integer)
    query = (
        select(week, func.count(), func.avg(Review.rating), func.sum(negative))
        .select_from(Review)
        .join(Source, Source.id == Review.source_id)
        .outerjoin(Sentiment, Sentiment.review_id == Review.id)
        .group_by(week)
        .order_by(week)
    )
    if source:
        query = query.where(Source.name == source)
    for week_start, count, mean_rating, negatives in session.exec(query):
        if isinstance(week_start, datetime):
            week_start = week_start.date()
        elif isinstance(week_start, str):
            week_start = date.fromisoformat(week_start)
        negatives = int(negatives or 0)
        yield {
            "week": week_start.isoformat(),
            "reviews": count,
            "mean_rating": round(float(mean_rating), 2) if mean_rating is not None else None,
            "negative": negatives,
            "negative_share": round(negatives / count, 3) if count else 0.0,
        }
