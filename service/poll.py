"""Poll sources: the one orchestrator between connectors and the database.

    for each source (all enabled ones, or those named):
        connector = source.connect(client)                  # its type's connector, in its time budget
        for page in connector.fetch(saved cursor):          # HTTP or file, no database
            in one transaction:
                ingest the page's reviews                   # upsert, revisions, sentiment, drafts
                save page.cursor (if the page has one)      # so a crash loses and doubles nothing
                if the page ends a full listing: mark reviews it did not contain as removed
        record the outcome (and the source's health) on the source and its poll run

A source that fails is recorded with its error and does not stop the others. The CLI
(`reviewmon poll`), the scheduler and the web app all call `poll()`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors.base import Page, RowError
from connectors.errors import AuthError, ConnectorError, NotAuthorised
from connectors.http import make_client
from service import trends
from service.config import SourceConfig
from service.context import Context
from service.ingest import PageCounts, SourceInfo
from service.models import PollRun, PollStatus, Review, Source, SourceStatus

log = logging.getLogger("reviewmon.poll")

MAX_PROBLEMS_KEPT = 100
MAX_RAW_KEPT = 2000

Progress = Callable[[str, int], None]
"""Called with (source name, records just processed) after each stored page."""


@dataclass
class SourceResult:
    name: str
    ok: bool = True
    error: str | None = None
    status: str = SourceStatus.ok
    fetched: int = 0
    rejected: int = 0
    removed: int = 0
    counts: PageCounts = field(default_factory=PageCounts)
    problems: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.name, "ok": self.ok, "status": str(self.status), "error": self.error, "fetched": self.fetched,
            "inserted": self.counts.inserted, "updated": self.counts.updated,
            "unchanged": self.counts.unchanged, "rejected": self.rejected, "removed": self.removed,
            "drafted": self.counts.drafted, "seconds": round(self.seconds, 3),
        }


def status_for(error: Exception) -> SourceStatus:
    if isinstance(error, AuthError):
        return SourceStatus.needs_credentials
    if isinstance(error, NotAuthorised):
        return SourceStatus.not_authorised
    return SourceStatus.failing


def sync_sources(ctx: Context) -> dict[str, Source]:
    """Make sure every configured source has its row; returns rows by name."""
    now = ctx.clock()
    with ctx.session() as session:
        rows = {s.name: s for s in session.exec(select(Source))}
        for source in ctx.config.sources:
            row = rows.get(source.name)
            if row is None:
                row = rows[source.name] = Source(name=source.name, type=source.type, created_at=now)
                session.add(row)
            elif row.type != source.type:
                row.type, row.cursor = source.type, None  # another kind of source: the old cursor means nothing
        session.flush()
    return rows


async def poll(ctx: Context, names: list[str] | None = None, *, progress: Progress | None = None) -> list[SourceResult]:
    """Poll the named sources (default: every enabled one); one result per source."""
    chosen = [ctx.config.source(n) for n in names] if names else [s for s in ctx.config.sources if s.enabled]
    rows = sync_sources(ctx)
    results = []
    async with make_client() as client:
        for source in chosen:
            results.append(await poll_source(ctx, source, rows[source.name].id, client=client, progress=progress))
    trends.refresh_quietly(ctx.engine, ctx.config.topics.keywords)
    return results


async def poll_source(ctx: Context, source: SourceConfig, source_id: int, *, client: Any, progress: Progress | None = None) -> SourceResult:
    result = SourceResult(source.name)
    started = time.monotonic()
    with ctx.session() as session:
        run = PollRun(source_id=source_id, started_at=ctx.clock(), status=PollStatus.running)
        session.add(run)
        session.flush()
        run_id = run.id
        cursor = session.get(Source, source_id).cursor
    try:
        connector = source.connect(client)
        info = SourceInfo(source_id, source.name, source.location, connector.capabilities)
        seen: set[str] = set()
        async for page in connector.fetch(cursor):
            _store_page(ctx, info, page, result, seen)
            if progress:
                progress(source.name, len(page.reviews) + len(page.errors))
    except ConnectorError as exc:
        result.ok, result.error, result.status = False, str(exc), status_for(exc)
    except Exception as exc:  # a bug or a database fault must not stop the other sources
        log.exception("unexpected error polling %s", source.name)
        result.ok, result.error, result.status = False, f"unexpected error: {type(exc).__name__}: {exc}", SourceStatus.failing
    result.seconds = time.monotonic() - started
    _finish(ctx, source, source_id, run_id, result)
    log.log(logging.INFO if result.ok else logging.ERROR, "%s: %s", source.name, "polled" if result.ok else f"failed: {result.error}", extra=result.as_dict())
    return result


def _store_page(ctx: Context, info: SourceInfo, page: Page, result: SourceResult, seen: set[str]) -> None:
    now = ctx.clock()
    seen.update(r.external_id for r in page.reviews)
    with ctx.session() as session:
        counts = ctx.ingester.ingest(session, info, page.reviews, now) if page.reviews else PageCounts()
        if page.cursor is not None:
            session.exec(update(Source).where(Source.id == info.id).values(cursor=page.cursor))
        removed = _mark_removed(session, info.id, seen, now) if page.complete else 0
    result.counts.add(counts)
    result.removed += removed
    result.fetched += len(page.reviews) + len(page.errors)
    result.rejected += len(page.errors)
    result.problems += page.errors
    for problem in page.errors:
        log.info("%s: skipped %s", info.name, problem, extra={"source": info.name, "where": problem.where, "raw": _raw(problem.raw)})


def _mark_removed(session: Session, source_id: int, seen: set[str], now: datetime) -> int:
    """A full listing just ended: reviews of the source it did not contain are gone from
    the platform. Mark them, keep them."""
    listed = session.exec(
        select(Review.id, Review.external_id).where(Review.source_id == source_id, col(Review.removed_at).is_(None))
    ).all()
    gone = [review_id for review_id, external_id in listed if external_id not in seen]
    for start in range(0, len(gone), 500):
        session.exec(update(Review).where(col(Review.id).in_(gone[start:start + 500])).values(removed_at=now))
    return len(gone)


def _raw(raw: Any) -> str:
    text = json.dumps(raw, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RAW_KEPT else text[:MAX_RAW_KEPT] + "…"


def _finish(ctx: Context, source: SourceConfig, source_id: int, run_id: int, result: SourceResult) -> None:
    now = ctx.clock()
    problems = [
        {"where": p.where, "message": p.message, "raw": _raw(p.raw)} for p in result.problems[:MAX_PROBLEMS_KEPT]
    ]
    with ctx.session() as session:
        run = session.get(PollRun, run_id)
        run.finished_at = now
        run.status = PollStatus.ok if result.ok else PollStatus.failed
        run.error = result.error
        run.fetched, run.rejected = result.fetched, result.rejected
        run.inserted, run.updated, run.drafted = result.counts.inserted, result.counts.updated, result.counts.drafted
        run.problems = problems
        row = session.get(Source, source_id)
        row.last_polled_at = now
        row.next_poll_at = source.schedule.next_after(now)
        row.status = result.status
        if result.ok:
            row.last_success_at, row.last_error, row.failure_count = now, None, 0
        else:
            row.last_error, row.failure_count = result.error, row.failure_count + 1
