"""Read-side queries shared by the CLI and the web app: reviews, drafts, sources.

Rows come back as plain dicts with the field names scripts rely on (README, "JSON
output"), streamed so that a million reviews never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

import connectors
from service.config import Config, SourceConfig, platform_name
from service.desk import history
from service.desk import search as search_module
from service.errors import NotFound, ReviewmonError
from service.models import (
    Draft,
    DraftEvent,
    DraftStatus,
    FollowUp,
    PollRun,
    PollStatus,
    Review,
    ReviewRevision,
    RunKind,
    Sentiment,
    Source,
    utcnow,
    written_at,
)

STREAM_BATCH = 1000
# A review's fields in CSV exports (`reviews list --format csv`, /reviews.csv), in this order.
REVIEW_FIELDS = ("id", "source", "external_id", "rating", "title", "text", "author", "location", "created_at",
                 "updated_at", "url", "owner_reply", "sentiment", "negative", "reason", "escalation", "triage", "language",
                 "revisions", "removed_at", "excerpt")


def _revision_counts():
    return (
        select(ReviewRevision.review_id, func.count().label("n"))
        .group_by(ReviewRevision.review_id)
        .subquery()
    )


def _narrowed(query: Any, *, source: str | None, location: str | None, rating: int | None, since: datetime | None,
              until: datetime | None) -> Any:
    """The filters every review list offers (the inbox, the reviews page): by source,
    location, stars, and when written (`until` excluded)."""
    if source:
        query = query.where(Source.name == source)
    if location:
        query = query.where(Review.location == location)
    if rating is not None:
        query = query.where(Review.rating == rating)
    if since is not None:
        query = query.where(written_at() >= since)
    if until is not None:
        query = query.where(written_at() < until)
    return query


def _past(moment: Any, row_id: Any, after: tuple[datetime, int], *, older: bool) -> tuple[Any, Any]:
    """The rows past `after` in a list ordered by (moment, id), newest first when `older`:
    written as a range on the moment and a tie-break on the id, which SQLite answers from
    the list's index (a row value of an expression it would scan)."""
    at, last = after
    if older:
        return moment <= at, sa.or_(moment < at, row_id < last)
    return moment >= at, sa.or_(moment > at, row_id > last)


def review_rows(
    session: Session, *, negative: bool | None = None, source: str | None = None, location: str | None = None,
    rating: int | None = None, search: str | None = None, since: datetime | None = None, until: datetime | None = None,
    limit: int | None = None, offset: int = 0, review_id: int | None = None, after: tuple[datetime, int] | None = None,
    suspicious: bool | None = None,
) -> Iterator[dict[str, Any]]:
    """Reviews newest first, with their source, sentiment and number of revisions.
    `suspicious`: true, only the reviews with a triage mark (spam, fake); false, the others.
    `search`: words that must each be in the title or the text, anywhere, in any case
    ("cold soup" finds "The soup was cold"; % and _ are plain characters). `after`: the
    `written_at` and `id` of the last row of the page before (keyset paging: the next
    page starts just past it, however many reviews arrived meanwhile)."""
    revisions = _revision_counts()
    query = (
        select(Review, Source.name, Sentiment, func.coalesce(revisions.c.n, 0))
        .join(Source, Source.id == Review.source_id)
        .outerjoin(Sentiment, Sentiment.review_id == Review.id)
        .outerjoin(revisions, revisions.c.review_id == Review.id)
        .order_by(written_at().desc(), col(Review.id).desc())
    )
    if negative is not None:
        query = query.where(Sentiment.negative == negative)
    if suspicious is not None:
        query = query.where(col(Review.triage).is_not(None) if suspicious else col(Review.triage).is_(None))
    query = _narrowed(query, source=source, location=location, rating=rating, since=since, until=until)
    query = search_module.matching(session, query, search)
    if review_id is not None:
        query = query.where(Review.id == review_id)
    if after is not None:
        query = query.where(*_past(written_at(), col(Review.id), after, older=True))
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    for review, source_name, sentiment, revision_count in session.exec(query.execution_options(yield_per=STREAM_BATCH)):
        yield {
            "id": review.id, "source": source_name, "external_id": review.external_id, "rating": review.rating,
            "title": review.title, "text": review.text, "author": review.author, "location": review.location,
            "created_at": review.created_at, "updated_at": review.updated_at, "written_at": review.written, "url": review.url,
            "owner_reply": review.owner_reply, "owner_reply_state": review.owner_reply_state,
            "removed_at": review.removed_at, "excerpt": review.excerpt,
            "translation": review.translation,
            "sentiment": sentiment.compound if sentiment else None,
            "negative": bool(sentiment and sentiment.negative),
            "reason": sentiment.reason if sentiment else None,
            "escalation": review.escalation, "triage": review.triage,
            "language": sentiment.language if sentiment else None,
            "revisions": revision_count,
        }


def review(session: Session, review_id: int) -> dict[str, Any]:
    for row in review_rows(session, review_id=review_id):
        row["revision_history"] = [
            {"rating": r.rating, "title": r.title, "text": r.text, "updated_at": r.updated_at, "replaced_at": r.replaced_at}
            for r in session.exec(select(ReviewRevision).where(ReviewRevision.review_id == review_id).order_by(ReviewRevision.id))
        ]
        row["draft_id"] = session.exec(select(Draft.id).where(Draft.review_id == review_id)).first()
        return row
    raise NotFound(f"no review with id {review_id}")


def draft_rows(
    session: Session, *, status: str | None = None, source: str | None = None, limit: int | None = None,
    draft_id: int | None = None, after: tuple[datetime, int] | None = None,
) -> Iterator[dict[str, Any]]:
    """Drafts, oldest waiting first (the order an owner should work through them).
    `after`: the `created_at` and `id` of the last row of the page before (keyset paging)."""
    query = (
        select(Draft, Review, Source.name)
        .join(Review, Review.id == Draft.review_id)
        .join(Source, Source.id == Review.source_id)
        .order_by(col(Draft.created_at), col(Draft.id))
    )
    if status:
        query = query.where(Draft.status == status)
    if source:
        query = query.where(Source.name == source)
    if draft_id is not None:
        query = query.where(Draft.id == draft_id)
    if after is not None:
        query = query.where(*_past(col(Draft.created_at), col(Draft.id), after, older=False))
    if limit is not None:
        query = query.limit(limit)
    for draft, review_, source_name in session.exec(query.execution_options(yield_per=STREAM_BATCH)):
        yield {
            "id": draft.id, "review_id": draft.review_id, "source": source_name, "external_id": review_.external_id,
            "status": draft.status, "text": draft.text, "policy_ok": draft.policy_ok,
            "policy_problems": list(draft.policy_problems or []), "template": draft.template,
            "created_at": draft.created_at, "updated_at": draft.updated_at, "edited_by": draft.edited_by,
            "posted_at": draft.posted_at, "platform_reply_id": draft.platform_reply_id,
            "platform_state": draft.platform_state, "post_error": draft.post_error, "confirmed_at": draft.confirmed_at,
            "approved_by": draft.approved_by, "approved_at": draft.approved_at, "post_after": draft.post_after,
            "followup": draft.followup, "followup_note": draft.followup_note, "escalation": review_.escalation,
            "triage": review_.triage,
            "rating": review_.rating, "author": review_.author, "review_text": review_.text, "review_url": review_.url,
        }


def draft(session: Session, draft_id: int) -> dict[str, Any]:
    for row in draft_rows(session, draft_id=draft_id):
        row["history"] = history.in_words([
            {"at": e.at, "actor": e.actor, "action": e.action, "status": e.status, "detail": e.detail}
            for e in session.exec(select(DraftEvent).where(DraftEvent.draft_id == draft_id).order_by(DraftEvent.id))
        ])
        return row
    raise NotFound(f"no draft with id {draft_id}")


def source_warnings(source: SourceConfig | None, name: str = "NAME") -> list[str]:
    """What a person should know about how a source is set up."""
    if source is None:
        return [("no longer in the config: not polled, and left out of the inbox, the trends and the alerts; "
                 f"`reviewmon sources purge {name}` deletes its reviews")]
    warnings = []
    if not source.enabled:
        warnings.append("disabled in the config")
    warnings += getattr(source.options, "deprecations", ())  # options that still work but should go
    retention = connectors.capabilities_of(source.type).retention
    gap = source.schedule.longest_gap()
    if retention is not None and gap > retention:
        warnings.append(
            f"polled only every {_days(gap)}, but {source.type} lists a review for just {_days(retention)} after it "
            "changes: reviews will be missed; poll it more often"
        )
    return warnings


def _days(delta: Any) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} hours"


def source_rows(session: Session, config: Config) -> Iterator[dict[str, Any]]:
    counts = dict(session.exec(select(Review.source_id, func.count()).group_by(Review.source_id)).all())
    configured = {s.name: s for s in config.sources}
    rows = {s.name: s for s in session.exec(select(Source).order_by(Source.name))}
    for name in sorted(set(rows) | set(configured)):
        source, settings = rows.get(name), configured.get(name)
        yield {
            "name": name, "type": settings.type if settings else source.type,
            "platform": config.platform_of(name, source.type if source else None),
            "status": source.status if source else "never polled",
            "schedule": str(settings.schedule) if settings else None,
            "reviews": counts.get(source.id, 0) if source else 0,
            "last_polled_at": source and source.last_polled_at, "last_success_at": source and source.last_success_at,
            "last_error": source and source.last_error, "failure_count": source.failure_count if source else 0,
            "next_poll_at": source and source.next_poll_at, "failing_since": source and source.failing_since,
            "polling_by": source.lease_owner if source and source.lease_until and source.lease_until > utcnow() else None,
            "backfill": _backfill_state(source), "warnings": source_warnings(settings, name),
        }


def _backfill_state(source: Source | None) -> str | None:
    if source is None:
        return None
    if source.backfill_cursor is not None:
        return "unfinished: `reviewmon backfill` resumes it"
    return f"done {source.backfill_done_at:%Y-%m-%d %H:%M}" if source.backfill_done_at else None


def stored_source_names(session: Session) -> list[str]:
    """Every source with something on record, in the config or not (any more)."""
    return list(session.exec(select(Source.name).order_by(Source.name)))


def removed_sources(session: Session, config: Config) -> list[str]:
    """Sources on record that the config no longer names (the demo's bistro, a closed
    branch): the inbox, the trends and the alerts leave them out, and say so, until
    `reviewmon sources purge NAME` deletes them."""
    configured = {s.name for s in config.sources}
    return [name for name in stored_source_names(session) if name not in configured]


def left_out_note(removed: list[str]) -> str | None:
    """The sentence that says which sources a view leaves out, and how to be rid of them."""
    if not removed:
        return None
    names = ", ".join(removed)
    return (f"Left out: the reviews of {names}, no longer in the config. "
            f"`reviewmon sources purge {removed[0]}` deletes {'them' if len(removed) == 1 else 'a source'} for good.")


def run_rows(session: Session, *, source: str | None = None, kind: str | None = None, failed: bool = False,
             limit: int | None = 50) -> Iterator[dict[str, Any]]:
    """The polls and backfills on record, newest first: what each fetched, stored and
    drafted, or why it failed. A run still "running" long after it started was cut off
    (a killed process); the next claim of its source records it as failed."""
    query = select(PollRun, Source.name).join(Source, col(Source.id) == PollRun.source_id).order_by(col(PollRun.id).desc())
    if source is not None:
        if session.exec(select(Source.id).where(Source.name == source)).first() is None:
            raise NotFound(f"no source named {source!r} has been polled")
        query = query.where(Source.name == source)
    if kind is not None:
        if kind not in set(RunKind):
            raise ReviewmonError(f"no run kind {kind!r}; known: {', '.join(RunKind)}")
        query = query.where(PollRun.kind == kind)
    if failed:
        query = query.where(PollRun.status == PollStatus.failed)
    if limit is not None:
        query = query.limit(limit)
    for run, name in session.exec(query.execution_options(yield_per=STREAM_BATCH)):
        yield _run_row(run, name)


def last_runs(session: Session) -> dict[str, dict[str, Any]]:
    """Each source's latest poll or backfill, as run_rows gives it, by source name (the
    sources page shows how the last one went, "Poll now"'s among them)."""
    latest = select(func.max(PollRun.id)).group_by(PollRun.source_id)
    query = select(PollRun, Source.name).join(Source, col(Source.id) == PollRun.source_id).where(col(PollRun.id).in_(latest))
    return {name: _run_row(run, name) for run, name in session.exec(query)}


def _run_row(run: PollRun, name: str) -> dict[str, Any]:
    return {
        "id": run.id, "source": name, "kind": run.kind, "status": run.status,
        "started_at": run.started_at, "finished_at": run.finished_at,
        "seconds": round((run.finished_at - run.started_at).total_seconds(), 1) if run.finished_at else None,
        "fetched": run.fetched, "inserted": run.inserted, "updated": run.updated, "rejected": run.rejected,
        "drafted": run.drafted, "error": run.error, "problems": run.problems,
    }


INBOX_STATUSES = (DraftStatus.drafted, DraftStatus.approved, DraftStatus.failed, DraftStatus.outdated)


def inbox_rows(
    session: Session, *, now: datetime, source: str | None = None, location: str | None = None,
    rating: int | None = None, status: str | None = None, since: datetime | None = None,
    until: datetime | None = None, limit: int | None = 100, offset: int = 0, leave_out: Sequence[str] = (),
    config: Config | None = None,
) -> Iterator[dict[str, Any]]:
    """Reviews that need an answer: escalated first, then negative, newest first.

    A review needs an answer while its draft is not yet done with (drafted, approved,
    failed, outdated). `status` narrows to one draft status; the sources named in
    `leave_out` (removed_sources()) are left out. `platform` is where the review was
    published, as the `config` names it (else as its source's type does)."""
    query = (
        select(Review, Source.name, Source.type, Sentiment, Draft)
        .join(Source, Source.id == Review.source_id)
        .join(Draft, Draft.review_id == Review.id)
        .outerjoin(Sentiment, Sentiment.review_id == Review.id)
        .where(col(Review.removed_at).is_(None), col(Draft.status).in_([s.value for s in INBOX_STATUSES]))
        .order_by(col(Review.escalation).is_(None), col(Sentiment.negative).is_not(True), written_at().desc(),
                  col(Review.id).desc())
    )
    query = _narrowed(query, source=source, location=location, rating=rating, since=since, until=until)
    if leave_out:
        query = query.where(col(Source.name).not_in(list(leave_out)))
    if status:
        query = query.where(Draft.status == status)
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    for review, source_name, source_type, sentiment, draft in session.exec(query):
        arrived = review.written
        yield {
            "review_id": review.id, "source": source_name, "rating": review.rating,
            "platform": config.platform_of(source_name, source_type) if config else platform_name(source_type),
            "author": review.author, "title": review.title, "text": review.text, "url": review.url,
            "location": review.location, "written_at": arrived, "waiting": now - arrived,
            "negative": bool(sentiment and sentiment.negative), "escalation": review.escalation, "triage": review.triage,
            "excerpt": review.excerpt, "draft_id": draft.id, "draft_status": draft.status, "draft_text": draft.text,
            "policy_ok": draft.policy_ok, "policy_problems": list(draft.policy_problems or []),
            "post_after": draft.post_after,
        }


def open_followups(session: Session, *, now: datetime, after: timedelta) -> Iterator[dict[str, Any]]:
    """Cases whose reply was approved more than `after` ago and are not resolved yet."""
    query = (
        select(Draft, Review, Source.name)
        .join(Review, Review.id == Draft.review_id)
        .join(Source, Source.id == Review.source_id)
        .where(col(Draft.approved_at).is_not(None), col(Draft.approved_at) <= now - after,
               or_(col(Draft.followup).is_(None), Draft.followup != FollowUp.resolved))
        .order_by(col(Draft.approved_at))
    )
    for draft, review, source_name in session.exec(query):
        yield {
            "draft_id": draft.id, "review_id": review.id, "source": source_name, "author": review.author,
            "rating": review.rating, "approved_at": draft.approved_at, "status": draft.status,
            "followup": draft.followup, "followup_note": draft.followup_note, "followup_at": draft.followup_at,
            "days_open": (now - draft.approved_at).days,
        }
