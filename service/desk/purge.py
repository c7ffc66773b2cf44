"""Deleting what a source left behind once it is out of the config (`reviewmon sources
purge NAME`): its reviews with their sentiments, revisions, drafts and their history,
the alerts about them, its runs and its own record.

A source removed from the config is already left out of the inbox, the trends and the
alerts (queries.removed_sources); purging is for good, so it asks first (the CLI's
confirmation) and refuses a source the config still names, which the next poll would
only fetch again. The trend tables' rows of the source go with it: they are derived
and keyed by source.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.config import Config
from service.errors import NotFound, ReviewmonError
from service.models import (
    Alert,
    Draft,
    DraftEvent,
    PollRun,
    Review,
    ReviewRevision,
    Sentiment,
    Source,
    TrendDay,
    TrendReview,
    TrendReviewTopic,
    TrendTopicDay,
)


@dataclass(frozen=True)
class Purged:
    source: str
    reviews: int
    drafts: int
    runs: int


def what_purge_deletes(session: Session, config: Config, name: str) -> Purged:
    """What purging `name` would delete (for the confirmation), refusing as purge would."""
    return _counts(session, _removed_source(session, config, name))


def _counts(session: Session, source: Source) -> Purged:
    reviews = _of_source(source)
    count = lambda query: session.exec(select(sa.func.count()).select_from(query.subquery())).one()  # noqa: E731
    return Purged(source.name, count(select(Review.id).where(col(Review.id).in_(reviews))),
                  count(select(Draft.id).where(col(Draft.review_id).in_(reviews))),
                  count(select(PollRun.id).where(PollRun.source_id == source.id)))


def purge_source(session: Session, config: Config, name: str) -> Purged:
    """Delete source `name` and everything stored of it, in one transaction."""
    source = _removed_source(session, config, name)
    counts = _counts(session, source)
    reviews = _of_source(source)
    drafts = select(Draft.id).where(col(Draft.review_id).in_(reviews))
    for statement in (
        sa.delete(DraftEvent).where(col(DraftEvent.draft_id).in_(drafts)),
        sa.delete(Alert).where(sa.or_(col(Alert.review_id).in_(reviews), Alert.source_id == source.id)),
        sa.delete(Draft).where(col(Draft.review_id).in_(reviews)),
        sa.delete(Sentiment).where(col(Sentiment.review_id).in_(reviews)),
        sa.delete(ReviewRevision).where(col(ReviewRevision.review_id).in_(reviews)),
        sa.delete(Review).where(Review.source_id == source.id),
        sa.delete(PollRun).where(PollRun.source_id == source.id),
        *(sa.delete(table).where(table.source_id == source.id)  # derived, and keyed by source: gone with it
          for table in (TrendReview, TrendReviewTopic, TrendDay, TrendTopicDay)),
        sa.delete(Source).where(Source.id == source.id),
    ):
        session.exec(statement)
    session.commit()
    return counts


def _removed_source(session: Session, config: Config, name: str) -> Source:
    if any(s.name == name for s in config.sources):
        raise ReviewmonError(f"source {name!r} is still in the config, and its next poll would fetch it again: "
                             "remove it from the config first")
    source = session.exec(select(Source).where(Source.name == name)).first()
    if source is None:
        raise NotFound(f"no source named {name!r} on record")
    return source


def _of_source(source: Source) -> sa.Select:
    return select(Review.id).where(Review.source_id == source.id)
