"""Reviews that look like spam or a fake (a triage mark, service/reading/marks.py), for the
inbox's second view and `reviewmon inbox --suspicious`.

The inbox lists the reviews whose draft waits; a five-star review with a crypto link has
no draft (it is not negative), so it would reach no one. Here every review with a triage
mark is listed, whatever its rating and whether or not it has a draft, newest first, with
where to report it (service/desk/reporting.py). A review the platform removed is left
out, and so are the sources the config no longer names (`leave_out`), as in the inbox.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.config import Config, platform_name
from service.desk import queries, reporting
from service.models import Draft, Review, Source, written_at


def _marked(query: Any, leave_out: Sequence[str]) -> Any:
    """Reviews with a triage mark that the platform still shows. The two conditions are
    the ones of the partial index ix_reviews_triaged (models.py), which they let the
    database use: these few reviews are found without reading the others."""
    query = query.where(col(Review.triage).is_not(None), col(Review.removed_at).is_(None))
    if leave_out:
        query = query.where(col(Source.name).not_in(list(leave_out)))
    return query


def suspicious_rows(
    session: Session, *, source: str | None = None, location: str | None = None, rating: int | None = None,
    since: datetime | None = None, until: datetime | None = None, limit: int | None = 100, offset: int = 0,
    leave_out: Sequence[str] = (), config: Config | None = None,
) -> Iterator[dict[str, Any]]:
    """Reviews with a triage mark, newest first, with their draft if they have one and
    where to report them: `report_url` (the review's own page, else its platform's help
    page), `report_help` (that help page) and `report_note` (why there is neither)."""
    query = _marked(
        select(Review, Source.name, Source.type, Draft)
        .join(Source, Source.id == Review.source_id)
        .outerjoin(Draft, Draft.review_id == Review.id),
        leave_out,
    ).order_by(written_at().desc(), col(Review.id).desc())
    query = queries._narrowed(query, source=source, location=location, rating=rating, since=since, until=until)
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    for review, source_name, source_type, draft in session.exec(query):
        platform = config.platform_of(source_name, source_type) if config else platform_name(source_type)
        report = reporting.where_to_report(source_type, review.url)
        yield {
            "review_id": review.id, "source": source_name, "platform": platform, "rating": review.rating,
            "author": review.author, "title": review.title, "text": review.text, "url": review.url,
            "location": review.location, "written_at": review.written, "excerpt": review.excerpt,
            "triage": review.triage, "escalation": review.escalation,
            "draft_id": draft.id if draft else None, "draft_status": draft.status if draft else None,
            "report_url": report.url, "report_help": report.help, "report_note": report.note,
            # the link's words: a file source's type is no platform to name
            "report_on": platform if platform and platform != source_type else None,
        }


def suspicious_count(session: Session, *, leave_out: Sequence[str] = ()) -> int:
    """How many reviews suspicious_rows() lists without filters (the inbox's tab)."""
    query = _marked(select(func.count()).select_from(Review).join(Source, Source.id == Review.source_id), leave_out)
    return session.exec(query).one()
