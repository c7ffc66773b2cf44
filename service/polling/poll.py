"""Poll sources: the one orchestrator between connectors and the database.

    claim the sources to poll (service/polling/claims.py): due ones, or those named
    for each claimed source, concurrently ([poll] concurrency; per-host limits in the client):
        connector = source.connect(client)                  # its type's connector, in its time budget
        for page in connector.fetch(saved cursor):          # HTTP or file, no database
            in one transaction:
                ingest the page's reviews                   # upsert, revisions, sentiment, drafts
                queue alerts for new negative reviews       # the outbox (service/alerts/)
                save page.cursor (if the page has one)      # so a crash loses and doubles nothing
                if the page ends a full listing: mark reviews it did not contain as removed
        record the outcome, the source's health and its next due time; give the claim back

A source that fails or overruns its time budget is recorded with its error and does not
hold up the others. Database work runs on worker threads (one on SQLite, whose writers
take turns anyway), so a page being stored never stalls the other sources' requests.
The CLI (`reviewmon poll`), the scheduler (service/polling/worker.py) and the web app all call `poll()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from typing import Any, TypeVar

from sqlalchemy import delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from connectors.base import Page, RowError
from connectors.errors import AuthError, ConnectorError, NotAuthorised
from service import metrics
from service.config import SourceConfig
from service.context import Context
from service.models import PollRun, PollStatus, Review, Source, SourceStatus
from service.polling import claims
from service.polling.group_commit import GroupCommit, Together
from service.polling.ingest import PageCounts, SourceInfo, ingester_of
from service.schedule import next_due
from service.trends import rollups

log = logging.getLogger("reviewmon.poll")
# One record per polled source, its outcome: the log line of a worker's poll. `reviewmon
# poll` says the same in words and leaves these out unless logs are asked for.
OUTCOMES = "reviewmon.poll.outcome"
outcomes = logging.getLogger(OUTCOMES)
POLL_RUNS = PollRun.__table__  # bulk inserts through the table (service/polling/ingest.py says why)

MAX_PROBLEMS_KEPT = 100
STORE_ALLOWANCE = 10.0  # seconds past a source's time budget to store what it read
MAX_RAW_KEPT = 2000
T = TypeVar("T")

Progress = Callable[[str, int], None]
"""Called with (source name, records just processed) after each stored page."""


@dataclass
class RunResult:
    """What one run over a source (a poll, a backfill) read and stored."""

    name: str
    ok: bool = True
    error: str | None = None
    status: str = SourceStatus.ok
    fetched: int = 0
    rejected: int = 0
    counts: PageCounts = field(default_factory=PageCounts)
    problems: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    def tally(self, page: Page, counts: PageCounts) -> None:
        """Count a stored page, in the metrics too; log the rows it could not read."""
        self.counts.add(counts)
        self.fetched += len(page.reviews) + len(page.errors)
        self.rejected += len(page.errors)
        self.problems += page.errors
        metrics.REVIEWS_INGESTED.labels(source=self.name, kind="inserted").inc(counts.inserted)
        metrics.REVIEWS_INGESTED.labels(source=self.name, kind="updated").inc(counts.updated)
        for problem in page.errors:
            log.info("%s: skipped %s", self.name, problem, extra={"source": self.name, "where": problem.where, "raw": raw_excerpt(problem.raw)})

    def record(self, run: PollRun, now: datetime) -> None:
        """Write the outcome onto its poll_runs row."""
        run.finished_at = now
        run.status = PollStatus.ok if self.ok else PollStatus.failed
        run.error = None if self.ok else self.error
        run.fetched, run.rejected = self.fetched, self.rejected
        run.inserted, run.updated, run.drafted = self.counts.inserted, self.counts.updated, self.counts.drafted
        run.problems = [
            {"where": p.where, "message": p.message, "raw": raw_excerpt(p.raw)} for p in self.problems[:MAX_PROBLEMS_KEPT]
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.name, "ok": self.ok, "status": str(self.status), "error": self.error, "fetched": self.fetched,
            "inserted": self.counts.inserted, "updated": self.counts.updated, "unchanged": self.counts.unchanged,
            "rejected": self.rejected, "drafted": self.counts.drafted, "seconds": round(self.seconds, 3),
        }


@dataclass
class SourceResult(RunResult):
    removed: int = 0
    busy: str | None = None  # not polled: this other process holds the source
    next_poll_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(), "removed": self.removed,
            "next_poll_at": self.next_poll_at.isoformat() if self.next_poll_at else None,
        }


def chosen_sources(config: Any, names: list[str] | None) -> list[str]:
    """The named sources (ConfigError for an unknown name), else every enabled one."""
    return [config.source(n).name for n in names] if names else [s.name for s in config.sources if s.enabled]


def busy_results(ctx: Context, names: list[str] | None, due_only: bool, results: list[SourceResult]) -> list[SourceResult]:
    """Sources asked for now (by name, or all of them with --all) that this poll did not
    get to, because another process is polling them right now: say which process. A
    poll of the due sources (cron's) leaves them to it without a word."""
    if due_only and not names:
        return []
    polled = {r.name for r in results}
    busy = claims.holders(ctx, [n for n in chosen_sources(ctx.config, names) if n not in polled])
    return [SourceResult(name, busy=holder) for name, holder in busy.items()]


def status_for(error: Exception) -> SourceStatus:
    if isinstance(error, AuthError):
        return SourceStatus.needs_credentials
    if isinstance(error, NotAuthorised):
        return SourceStatus.not_authorised
    return SourceStatus.failing


def sync_sources(ctx: Context) -> dict[str, int]:
    """Make sure every configured source has its row (several processes may try at
    once: insert-if-absent); returns source ids by name."""
    now = ctx.clock()
    with ctx.session(write=True) as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        for source in ctx.config.sources:
            session.exec(
                dialect.insert(Source)
                .values(name=source.name, type=source.type, created_at=now, failure_count=0, status=SourceStatus.ok)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        rows = {s.name: s for s in session.exec(select(Source))}
        for source in ctx.config.sources:
            row = rows[source.name]
            if row.type != source.type:  # another kind of source: the old cursor means nothing
                session.exec(update(Source).where(Source.id == row.id).values(type=source.type, cursor=None))
    return {name: row.id for name, row in rows.items()}


class Poller:
    """One poll round of one process: claims, then polls what it claimed, concurrently."""

    def __init__(self, ctx: Context, *, owner: str | None = None, progress: Progress | None = None, concurrency: int | None = None):
        self.ctx = ctx
        self.owner = owner or claims.process_id()
        self.progress = progress
        self.concurrency = concurrency or ctx.config.poll.concurrency  # sources polled at once
        sqlite_db = ctx.engine.dialect.name == "sqlite"
        # SQLite has one writer at a time: one database thread per process, no lock spinning.
        self.db = ThreadPoolExecutor(1 if sqlite_db else min(8, self.concurrency), thread_name_prefix="reviewmon-db")
        self.writer = GroupCommit(ctx, self.db)  # the many small write transactions, batched

    @cached_property
    def transport(self) -> Any:
        """Made when a source is first polled: a cron poll that finds nothing due never
        loads httpx and its certificates (about 80 ms of every such start)."""
        from connectors import http

        return http.PoliteTransport(self.ctx.config.poll.per_host)

    def client(self) -> Any:
        """The HTTP client the sources are polled with (close it when done)."""
        from connectors import http

        return http.make_client(transport=self.transport)

    async def in_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.db, fn, *args)

    def close(self) -> None:
        self.db.shutdown(wait=True)
        ingester_of(self.ctx).pool.close()  # its helpers, if a big batch started them

    async def run(self, names: list[str] | None = None, *, due_only: bool = False, share: datetime | None = None) -> list[SourceResult]:
        """Claim as many sources as there are free slots, poll them, and claim more as
        slots free up, until none is left: a second process started meanwhile takes its
        share instead of finding everything claimed by the first. `share`: this is one of
        the processes of one poll started then (service/polling/processes.py): it takes only
        sources not polled since, and leaves syncing the sources, reporting the busy ones
        and refreshing the trends to the parent."""
        config = self.ctx.config
        chosen = chosen_sources(config, names)
        if share is None:
            await self.in_db(sync_sources, self.ctx)
        # VADER and the language model load on their own thread while the first requests
        # wait for answers (not on the database thread: the claims must not wait for them);
        # only once a source is claimed: a cron poll that finds nothing due skips them.
        warm: asyncio.Future[None] | None = None
        results: list[SourceResult] = []
        done: set[str] = set()  # polled by this round (a source falls due again only after a poll)
        running: set[asyncio.Task[SourceResult]] = set()
        async with contextlib.AsyncExitStack() as stack:
            client = None
            try:
                while True:
                    free = self.concurrency - len(running)
                    wanted = [n for n in chosen if n not in done]
                    claimed = await self.in_db(partial(claims.claim, self.ctx, self.owner, wanted, due_only=due_only, limit=free,
                                                       not_polled_since=share)) if free and wanted else []
                    if claimed and warm is None:
                        warm = asyncio.ensure_future(asyncio.to_thread(warm_up, self.ctx))
                        client = await stack.enter_async_context(self.client())
                    for claim in claimed:
                        done.add(claim.name)
                        running.add(asyncio.ensure_future(self.poll_source(config.source(claim.name), claim, client)))
                    if not running:
                        break
                    finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    results += [task.result() for task in finished]
            except asyncio.CancelledError:
                # This poll was cancelled (the web app's "Poll now" at shutdown): its sources'
                # polls stop with it, before their client closes, instead of running on unowned.
                for task in running:
                    task.cancel()
                if running:
                    await asyncio.wait(running)
                raise
        if warm is not None:
            await warm
        ingester_of(self.ctx).pool.close(wait=False)  # every page is stored: the helpers exit while the trends refresh
        if share is not None:
            return results
        results += await self.in_db(busy_results, self.ctx, names, due_only, results)
        if done:
            await self.in_db(rollups.refresh_quietly, self.ctx.engine, config.topics.keywords)
        return results

    async def poll_source(self, source: SourceConfig, claim: claims.Claim, client: Any) -> SourceResult:
        result = SourceResult(source.name)
        started = time.monotonic()
        try:
            run_id, cursor = await self.writer.write(Together(self._start_runs, claim.source_id))
        except Exception as exc:  # the database is down or full: nothing was started, nothing to finish
            log.exception("cannot start polling %s", source.name)
            result.ok, result.error, result.status = False, describe(exc), SourceStatus.failing
            return result
        try:
            from connectors import http

            async with asyncio.timeout(self._time_limit(source)), http.lane(self.transport, source.name):
                await self._read(source, claim, client, cursor, result)
        except TimeoutError:
            result.ok, result.status = False, SourceStatus.failing
            result.error = f"took longer than its time budget ({source.time_budget}); stopped, the pages stored so far are kept"
        except ConnectorError as exc:
            result.ok, result.error, result.status = False, str(exc), status_for(exc)
        except DBAPIError as exc:  # disk full, database locked, connection lost: this page is rolled back
            log.exception("database error storing a page of %s", source.name)
            result.ok, result.error, result.status = False, f"{describe(exc)}; the pages stored before it are kept", SourceStatus.failing
        except Exception as exc:  # a bug must not stop the other sources
            log.exception("unexpected error polling %s", source.name)
            result.ok, result.error, result.status = False, f"unexpected error: {describe(exc)}", SourceStatus.failing
        result.seconds = time.monotonic() - started
        try:
            result.next_poll_at = await self.writer.write(Together(self._finish_all, (source, claim, run_id, result)))
        except Exception as exc:
            log.exception("cannot record the poll of %s", source.name)
            result.ok, result.error = False, f"{result.error or 'polled'}; then could not record it: {describe(exc)}"
        metrics.POLLS.labels(outcome="ok" if result.ok else "failed").inc()
        metrics.POLL_SECONDS.observe(result.seconds)
        outcomes.log(logging.INFO if result.ok else logging.ERROR, "%s: %s", source.name,
                     "polled" if result.ok else f"failed: {result.error}", extra=result.as_dict())
        return result

    def _time_limit(self, source: SourceConfig) -> float:
        """A source's whole poll: its time budget (which its requests and retries keep to)
        and a little for storing the last page, well inside the lease (budget + grace)."""
        allowance = min(STORE_ALLOWANCE, self.ctx.config.poll.lease_grace.total_seconds() / 2)
        return source.time_budget.total_seconds() + allowance

    async def _read(self, source: SourceConfig, claim: claims.Claim, client: Any, cursor: Any, result: SourceResult) -> None:
        """Read the source page by page; each page is stored while the next one is read
        (its request or its lines), and pages land in order: page n+1 is handed to the
        writer only once page n has landed, so a failure stops at the last whole page."""
        connector = source.connect(client)
        info = SourceInfo(claim.source_id, source.name, source.location, connector.capabilities)
        seen: set[str] = set()

        async def store(page: Page, stored: PageToStore) -> None:
            counts, removed = await self.writer.write(Together(self._store_pages, stored, self._prepare_pages))
            result.removed += removed
            result.tally(page, counts)
            if self.progress:
                self.progress(source.name, len(page.reviews) + len(page.errors))

        storing: asyncio.Future[None] | None = None
        try:
            async for page in connector.fetch(cursor):
                if storing is not None:
                    ingester_of(self.ctx).read_ahead(page.reviews)  # read its texts while the page before is written
                    await storing
                seen.update(r.external_id for r in page.reviews)
                storing = asyncio.ensure_future(store(page, PageToStore(info, page, frozenset(seen) if page.complete else None, claim.first_poll)))
        except asyncio.CancelledError:  # out of time: the page being stored may not land
            if storing is not None:
                storing.cancel()
            raise
        except Exception:  # the next page failed: the one read before it still lands
            if storing is not None and not storing.done():
                try:
                    await storing
                except Exception:
                    log.exception("%s: storing the last page read failed too", source.name)
            raise
        if storing is not None:
            await storing

    def _start_runs(self, session: Session, source_ids: list[int]) -> list[tuple[int, Any]]:
        """A poll_runs row for each source starting its poll, and its saved cursor (a
        group-commit job: hundreds of sources start at once). The sources' runs older than
        `[poll] keep_runs` go: each poll tidies its own source's history."""
        now = self.ctx.clock()
        # One model's defaults, copied: building a SQLModel row costs pydantic a signature
        # inspection per default factory, and hundreds start at once.
        template = PollRun(source_id=0, started_at=now, status=PollStatus.running).model_dump(exclude={"id"})
        rows = [{**template, "source_id": i} for i in source_ids]
        runs = dict(session.exec(insert(POLL_RUNS).returning(POLL_RUNS.c.source_id, POLL_RUNS.c.id), params=rows).all())
        session.exec(delete(PollRun).where(col(PollRun.source_id).in_(source_ids), PollRun.status != PollStatus.running,
                                           col(PollRun.started_at) < now - self.ctx.config.poll.keep_runs))
        cursors = dict(session.exec(select(Source.id, Source.cursor).where(col(Source.id).in_(source_ids))).all())
        return [(runs[i], cursors[i]) for i in source_ids]

    def _prepare_pages(self, session: Session, pages: list[PageToStore]) -> None:
        """Score the pages' new reviews and work out their marks before the write lock (group commit)."""
        ingester_of(self.ctx).prepare(session, [(p.info, p.page.reviews) for p in pages])

    def _store_pages(self, session: Session, pages: list[PageToStore]) -> list[tuple[PageCounts, int]]:
        """Pages of several sources, their alerts and their cursors, in the caller's
        transaction (a job of the group commit: it changes only the database). Returns
        (counts, reviews marked removed) for each page."""
        ctx = self.ctx
        now = ctx.clock()
        counts: dict[int, PageCounts] = {}
        for chunk in _one_page_per_source(pages):
            counts.update(ingester_of(ctx).ingest_many(session, [(p.info, p.page.reviews) for p in chunk], now))
        outcomes = []
        for stored in pages:
            source_id, page = stored.info.id, stored.page
            got = counts[source_id]
            if ctx.config.alerts.channels and (got.inserted or got.updated):
                from service.alerts import enqueue

                enqueue.reviews_arrived(session, ctx.config, source_id=source_id, stored_at=now, baseline=stored.first_poll)
            if page.cursor is not None:
                session.exec(update(Source).where(Source.id == source_id).values(cursor=page.cursor))
            removed = _mark_removed(session, source_id, stored.seen, now) if stored.seen is not None else 0
            outcomes.append((got, removed))
        return outcomes

    def _finish_all(self, session: Session, finished: list[tuple[SourceConfig, claims.Claim, int, SourceResult]]) -> list[datetime]:
        """_finish for many sources, their rows loaded with two statements (a group-commit job)."""
        session.exec(select(Source).where(col(Source.id).in_([claim.source_id for _, claim, _, _ in finished]))).all()
        session.exec(select(PollRun).where(col(PollRun.id).in_([run_id for _, _, run_id, _ in finished]))).all()
        return [self._finish(source, claim, run_id, result, session) for source, claim, run_id, result in finished]

    def _finish(self, source: SourceConfig, claim: claims.Claim, run_id: int, result: SourceResult, session: Session) -> datetime:
        """Record the outcome and the next due time; give the claim back. Returns the next due time."""
        ctx = self.ctx
        now = ctx.clock()
        result.record(session.get(PollRun, run_id), now)
        row = session.get(Source, claim.source_id)
        streak, failing_since = row.failure_count, row.failing_since
        row.last_polled_at = now
        row.status = result.status
        if result.ok:
            row.last_success_at, row.last_error, row.failure_count, row.failing_since = now, None, 0, None
        else:
            row.last_error, row.failure_count = result.error, row.failure_count + 1
            row.failing_since = row.failing_since or now
        row.next_poll_at = next_due(
            source.schedule, now, key=source.name, jitter_cap=ctx.config.poll.jitter,
            failures=row.failure_count, max_backoff=ctx.config.poll.max_backoff,
        )
        if row.lease_owner == self.owner:
            row.lease_owner, row.lease_until = None, None
        session.flush()
        if ctx.config.alerts.channels:
            from service.alerts import enqueue

            if not result.ok:
                enqueue.source_failed(session, ctx.config, row, now)
            elif streak and failing_since is not None:
                enqueue.source_recovered(session, ctx.config, row, failing_since, streak, now)
        return row.next_poll_at


async def poll(ctx: Context, names: list[str] | None = None, *, due_only: bool = False,
               progress: Progress | None = None, owner: str | None = None) -> list[SourceResult]:
    """Poll the named sources (default: every enabled one; with `due_only`, those of them
    that are due). Sources another process is polling are skipped (reported with `busy`,
    unless the poll took only the due ones, as cron's does). Queued alerts are delivered afterwards."""
    poller = Poller(ctx, owner=owner, progress=progress)
    try:
        results = await poller.run(names, due_only=due_only)
        if ctx.config.alerts.channels:
            await poller.in_db(deliver_alerts, ctx)
    finally:
        poller.close()
    return results


def deliver_alerts(ctx: Context) -> None:
    """Queue alerts about waiting drafts, failed logins and due reports, then send what is
    due. Never raises: an alert that cannot be sent is recorded and tried again later."""
    from service.alerts import deliver, enqueue, reports

    try:
        with ctx.session(write=True) as session:
            enqueue.waiting_drafts(session, ctx.config, ctx.clock())
            enqueue.failed_logins(session, ctx.config, ctx.clock())
        reports.enqueue_due_reports(ctx, ctx.clock())
        deliver.deliver_due(ctx)
    except Exception:
        log.exception("alerts could not be queued or delivered; they will be tried again")


def warm_up(ctx: Context) -> None:
    """Load VADER and the reply templates before the first page. (The language model
    loads when a text first needs it: most sources never send one that does.)"""
    ingester_of(ctx).scorer.load()


@dataclass(frozen=True)
class PageToStore:
    info: SourceInfo
    page: Page
    seen: frozenset[str] | None  # the reviews of a full listing that ends with this page
    first_poll: bool


def _one_page_per_source(pages: list[PageToStore]) -> list[list[PageToStore]]:
    """Split pages so that no source has two in one chunk (ingest_many's rule)."""
    chunks: list[list[PageToStore]] = []
    for stored in pages:
        home = next((chunk for chunk in chunks if all(p.info.id != stored.info.id for p in chunk)), None)
        if home is None:
            chunks.append(home := [])
        home.append(stored)
    return chunks


def _mark_removed(session: Session, source_id: int, seen: frozenset[str], now: datetime) -> int:
    """A full listing just ended: reviews of the source it did not contain are gone from
    the platform. Mark them, keep them."""
    listed = session.exec(
        select(Review.id, Review.external_id).where(Review.source_id == source_id, col(Review.removed_at).is_(None))
    ).all()
    gone = [review_id for review_id, external_id in listed if external_id not in seen]
    for start in range(0, len(gone), 500):
        session.exec(update(Review).where(col(Review.id).in_(gone[start:start + 500])).values(removed_at=now))
    return len(gone)


def describe(error: Exception) -> str:
    """An error in one line for poll_runs and the source's health: a database error as the
    database put it, without SQLAlchemy's statement and parameters (a whole page of reviews)."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        return "database error: " + " ".join(f"{type(error.orig).__name__}: {error.orig}".split())
    return f"{type(error).__name__}: {error}"


def raw_excerpt(raw: Any) -> str:
    """A rejected row as the platform sent it, shortened for logs and poll_runs."""
    text = json.dumps(raw, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RAW_KEPT else text[:MAX_RAW_KEPT] + "…"
