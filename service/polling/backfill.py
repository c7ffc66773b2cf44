"""Backfill a source: read its whole history once, where the platform lists it, and pick
up where an interrupted backfill stopped.

    refuse at once when the source's connector has no backfill() (capabilities.history says why)
    claim the source (service/polling/claims.py), as a poll does: one process at a time
    for page in connector.backfill(Source.backfill_cursor, or None with restart):
        in one transaction:
            ingest the page's reviews                # the poller's ingester: upsert, revisions, sentiment, drafts
            save page.cursor as backfill_cursor      # where to resume; the last page's clears it and sets backfill_done_at
        renew the lease (lost: stop); the next page gets the source's whole time budget again
    record the run in poll_runs, give the claim back

What a poll does and a backfill does not: queue alerts (history is not news, as on a
source's first poll), mark reviews removed (a backfill page is never `complete`), move
the source's poll cursor, health or next due time. While a backfill runs, the source's
polls are left to it (it holds the claim); between two runs of an interrupted backfill,
polls go on as usual. Re-reading a page is harmless: reviews are upserts keyed by the
platform's id, so a resumed or restarted backfill stores nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import update

import connectors
from connectors.base import Page
from connectors.errors import ConnectorError
from connectors.http import PoliteTransport, make_client
from connectors.paging import backfill_done
from service.config import SourceConfig
from service.context import Context
from service.errors import NotBackfillable, SourceBusy
from service.models import PollRun, PollStatus, RunKind, Source, SourceStatus
from service.polling import claims
from service.polling.ingest import PageCounts, SourceInfo, ingester_of
from service.polling.poll import Progress, RunResult, status_for, sync_sources
from service.polling.poll import describe as describe_error
from service.trends import rollups

log = logging.getLogger("reviewmon.backfill")

class LeaseLost(Exception):
    """Our claim on the source lapsed and another process holds it now."""


@dataclass
class BackfillResult(RunResult):
    pages: int = 0
    resumed_from: dict[str, Any] | None = None  # the saved cursor this run started at (None: the start)
    resume_at: dict[str, Any] | None = None  # where the next run goes on, when this one did not finish
    finished: bool = False  # the whole history the platform lists is stored
    history: str | None = None  # how far back the platform reaches (capabilities.history)

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(), "pages": self.pages,
            "resumed_from": describe(self.resumed_from) if self.resumed_from else None,
            "resume_at": describe(self.resume_at) if self.resume_at and not self.finished else None,
            "finished": self.finished,
        }


def describe(cursor: dict[str, Any] | None) -> str:
    """A resume cursor in words: "location 123, page 4", "after line 1000"."""
    if not cursor:
        return "the start"
    parts = []
    if cursor.get("location"):
        parts.append(f"location {cursor['location']}")
    if "page" in cursor:
        parts.append(f"page {cursor['page']}")
    if "line" in cursor:
        parts.append(f"after line {cursor['line']}")
    return ", ".join(parts) or json.dumps(cursor, default=str)[:100]


def check_backfillable(source: SourceConfig) -> None:
    """NotBackfillable, with the platform's reason, when the source type has no backfill()."""
    kind = connectors.get(source.type)
    if not callable(getattr(kind, "backfill", None)):
        why = kind.capabilities.history or "its connector cannot read history"
        raise NotBackfillable(f"source {source.name!r} ({source.type}) cannot be backfilled: {why}")


async def backfill(ctx: Context, name: str, *, progress: Progress | None = None, restart: bool = False,
                   owner: str | None = None) -> BackfillResult:
    """Read the named source's history to the end, from where an earlier backfill stopped
    (or from the start with `restart`). Raises NotBackfillable when the platform lists no
    history, SourceBusy when another process holds the source; any other failure is in
    the result, with the cursor kept so that the next call resumes there."""
    source = ctx.config.source(name)
    check_backfillable(source)
    owner = owner or claims.process_id()
    await asyncio.to_thread(sync_sources, ctx)
    claimed = await asyncio.to_thread(lambda: claims.claim(ctx, owner, [source.name], due_only=False, limit=1))
    if not claimed:
        holder = (await asyncio.to_thread(claims.holders, ctx, [source.name])).get(source.name)
        raise SourceBusy(f"source {source.name!r} is being polled by another process ({holder or 'unknown'}); "
                         "try the backfill again when it is done (usually in a minute or two)")
    return await _Backfill(ctx, source, claimed[0], owner, progress).run(restart=restart)


class _Backfill:
    """One run of a backfill of one claimed source."""

    def __init__(self, ctx: Context, source: SourceConfig, claim: claims.Claim, owner: str, progress: Progress | None):
        self.ctx, self.source, self.claim, self.owner, self.progress = ctx, source, claim, owner, progress
        self.result = BackfillResult(source.name, history=connectors.get(source.type).capabilities.history)

    async def run(self, *, restart: bool) -> BackfillResult:
        result, started = self.result, time.monotonic()
        try:
            try:
                run_id, saved = await asyncio.to_thread(self._start, restart)
            except Exception as exc:  # the database is down or full: nothing was started
                log.exception("cannot start the backfill of %s", self.source.name)
                result.ok, result.error, result.status = False, f"database error: {type(exc).__name__}: {exc}", SourceStatus.failing
                return result
            result.resumed_from = result.resume_at = saved
            try:
                await self._read_all(saved)
            except asyncio.CancelledError:  # Ctrl-C: record what was stored; the loop is going down
                result.ok, result.error, result.seconds = False, "interrupted", time.monotonic() - started
                with contextlib.suppress(Exception):
                    self._finish(run_id)
                raise
            result.seconds = time.monotonic() - started
            try:
                await asyncio.to_thread(self._finish, run_id)
            except Exception as exc:
                log.exception("cannot record the backfill of %s", self.source.name)
                result.ok, result.error = False, f"{result.error or 'backfilled'}; then could not record it: {type(exc).__name__}: {exc}"
        finally:  # also on Ctrl-C, so the next run need not wait; with the database gone, the lease lapses by itself
            with contextlib.suppress(Exception):
                claims.release(self.ctx, self.claim.source_id, self.owner)
        if result.counts.inserted or result.counts.updated:
            await asyncio.to_thread(rollups.refresh_quietly, self.ctx.engine, self.ctx.config.topics.keywords)
        log.log(logging.INFO if result.ok else logging.ERROR, "%s: %s", self.source.name,
                "backfilled" if result.ok else f"backfill stopped: {result.error}", extra=result.as_dict())
        return result

    async def _read_all(self, saved: dict[str, Any] | None) -> None:
        result, source = self.result, self.source
        try:
            await self._read(saved)
        except TimeoutError:
            result.ok, result.status = False, SourceStatus.failing
            result.error = (f"a page took longer than the source's time budget ({source.time_budget}); stopped, "
                            "the pages stored so far are kept")
        except LeaseLost:
            result.ok, result.status = False, SourceStatus.failing
            result.error = ("lost the claim on the source (a page took longer than the lease, and another process "
                            "has claimed it since); the pages stored so far are kept")
        except ConnectorError as exc:
            result.ok, result.error, result.status = False, str(exc), status_for(exc)
        except Exception as exc:  # a bug or a database fault: recorded like a poll's
            log.exception("unexpected error backfilling %s", source.name)
            result.ok, result.error, result.status = False, f"unexpected error: {describe_error(exc)}", SourceStatus.failing

    async def _read(self, saved: dict[str, Any] | None) -> None:
        ctx, source, claim = self.ctx, self.source, self.claim
        lease = claims.lease_for(ctx, source)
        loop = asyncio.get_running_loop()
        async with make_client(transport=PoliteTransport(ctx.config.poll.per_host)) as client:
            http = source.http(client)
            connector = connectors.get(source.type)(source.options, http=http)
            info = SourceInfo(claim.source_id, source.name, source.location, connector.capabilities)
            async with asyncio.timeout((claim.lease_until - ctx.clock()).total_seconds() - 5) as deadline:
                async for page in connector.backfill(saved):
                    await asyncio.to_thread(self._store, info, page)
                    if self.progress:
                        self.progress(source.name, len(page.reviews) + len(page.errors))
                    if not await asyncio.to_thread(claims.renew, ctx, claim.source_id, self.owner, lease):
                        raise LeaseLost
                    http.restart_budget()
                    deadline.reschedule(loop.time() + lease.total_seconds() - 5)

    def _start(self, restart: bool) -> tuple[int, dict[str, Any] | None]:
        with self.ctx.session(write=True) as session:
            run = PollRun(source_id=self.claim.source_id, kind=RunKind.backfill, started_at=self.ctx.clock(),
                          status=PollStatus.running)
            session.add(run)
            session.flush()
            if restart:
                session.exec(update(Source).where(Source.id == self.claim.source_id).values(backfill_cursor=sa.null()))
                return run.id, None
            return run.id, session.get(Source, self.claim.source_id).backfill_cursor

    def _store(self, info: SourceInfo, page: Page) -> None:
        """One page's reviews and its resume cursor, in one transaction."""
        ctx, result = self.ctx, self.result
        now = ctx.clock()
        done = backfill_done(page.cursor)
        with ctx.session(write=True) as session:
            counts = ingester_of(ctx).ingest(session, info, page.reviews, now) if page.reviews else PageCounts()
            if done:
                values: dict[str, Any] = {"backfill_cursor": sa.null(), "backfill_done_at": now}
            else:
                values = {"backfill_cursor": page.cursor} if page.cursor is not None else {}
            if values:
                session.exec(update(Source).where(Source.id == info.id).values(**values))
        result.pages += 1
        result.finished = done
        result.resume_at = page.cursor if page.cursor is not None and not done else result.resume_at
        result.tally(page, counts)
        log.info("%s: backfill page %d stored", info.name, result.pages,
                 extra={"source": info.name, "pages": result.pages, "fetched": len(page.reviews) + len(page.errors),
                        "inserted": counts.inserted, "updated": counts.updated,
                        "resume_at": None if done else describe(page.cursor)})

    def _finish(self, run_id: int) -> None:
        ctx, result = self.ctx, self.result
        now = ctx.clock()
        with ctx.session(write=True) as session:
            result.record(session.get(PollRun, run_id), now)
            if result.ok and not result.finished:  # the listing ended without a last resume point
                session.exec(update(Source).where(Source.id == self.claim.source_id)
                             .values(backfill_cursor=sa.null(), backfill_done_at=now))
                result.finished = True
            session.exec(update(Source).where(Source.id == self.claim.source_id, Source.lease_owner == self.owner)
                         .values(lease_owner=None, lease_until=None))

