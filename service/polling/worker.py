"""The scheduler of `reviewmon worker` and `reviewmon serve`: polls sources as they fall
due, delivers alerts, keeps the trends fresh. Runs on an asyncio loop (its own, or the
web server's).

Due times live in the database, not in this process, so any number of workers on any
number of machines share the work: every [poll] tick each worker claims as many due
sources as it has free slots (service/polling/claims.py) and polls them in the background; a
slow source holds one slot, never the tick; a finished poll frees its slot for the next
due source at once. Alerts are delivered at every tick too. APScheduler runs the periodic jobs, each
with max_instances=1 and coalescing, so a late job never piles up.

Stopping (SIGTERM, Ctrl-C): no new claims; polls under way get `STOP_GRACE` seconds to
finish, then are cancelled and their claims given back. A worker killed outright
leaves claims that expire on their own (a source's time budget plus [poll] lease_grace).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta, timezone
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from service.context import Context
from service.polling import claims
from service.polling.ingest import ingester_of
from service.polling.poll import Poller, deliver_alerts, sync_sources, warm_up
from service.trends import rollups

log = logging.getLogger("reviewmon.worker")

STOP_GRACE = 30.0
TRENDS_EVERY = timedelta(minutes=1)


class Worker:
    def __init__(self, ctx: Context, *, owner: str | None = None):
        self.ctx = ctx
        self.poller = Poller(ctx, owner=owner)
        self.running: dict[asyncio.Task[Any], claims.Claim] = {}
        self.stopping = False
        self.polled_since_refresh = False
        self.scheduler: AsyncIOScheduler | None = None
        self.client: Any = None
        self.claiming = asyncio.Lock()
        self.more_due = False  # the last claim filled every free slot: more may be waiting

    @property
    def owner(self) -> str:
        return self.poller.owner

    @property
    def is_running(self) -> bool:
        return self.scheduler is not None and self.scheduler.running and not self.stopping

    async def start(self) -> None:
        config = self.ctx.config
        self.client = self.poller.client()
        await self.poller.in_db(sync_sources, self.ctx)
        await self.poller.in_db(warm_up, self.ctx)
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        every = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        self.scheduler.add_job(self.tick, IntervalTrigger(seconds=config.poll.tick.total_seconds()), id="poll", next_run_time=self.ctx.clock(), **every)
        if config.alerts.channels:
            self.scheduler.add_job(self.alerts, IntervalTrigger(seconds=config.poll.tick.total_seconds()), id="alerts", **every)
        self.scheduler.add_job(self.refresh_trends, IntervalTrigger(seconds=TRENDS_EVERY.total_seconds()), id="trends", **every)
        self.scheduler.start()
        log.info("worker %s started: %d sources, tick %s", self.owner, len(config.sources), config.poll.tick,
                 extra={"worker": self.owner, "sources": len(config.sources)})

    async def tick(self) -> None:
        """Claim due sources for the free slots and poll them in the background."""
        if self.stopping or self.claiming.locked():
            return
        async with self.claiming:
            if not self.running:  # idle: helper processes a big import started are not kept
                await self.poller.in_db(ingester_of(self.ctx).pool.close)
            free = self.ctx.config.poll.concurrency - len(self.running)
            if free <= 0:
                return
            names = [s.name for s in self.ctx.config.sources if s.enabled]
            try:
                claimed = await self.poller.in_db(lambda: claims.claim(self.ctx, self.owner, names, due_only=True, limit=free))
            except Exception:
                log.exception("could not claim due sources; trying again at the next tick")
                return
            self.more_due = len(claimed) == free
            for claim in claimed:
                self._start(claim)

    async def poll_now(self, name: str) -> asyncio.Task[Any] | None:
        """"Poll now" in the web app that runs this scheduler: claim this one source, due or
        not, and poll it as a due one, at once (past the free slots: one click, one source).
        The poll's task, or None if another process holds the source or the worker is stopping."""
        if not self.is_running:
            return None
        claimed = await self.poller.in_db(lambda: claims.claim(self.ctx, self.owner, [name], due_only=False, limit=1))
        if not claimed:
            return None
        if self.stopping:  # stop() began meanwhile and no longer looks for new polls
            with contextlib.suppress(Exception):  # stopped already: the lease ends with this process
                await self.poller.in_db(claims.release, self.ctx, claimed[0].source_id, self.owner)
            return None
        return self._start(claimed[0])

    def _start(self, claim: claims.Claim) -> asyncio.Task[Any]:
        task = asyncio.create_task(self._poll(claim), name=f"poll {claim.name}")
        self.running[task] = claim
        task.add_done_callback(self.running.pop)
        return task

    async def _poll(self, claim: claims.Claim) -> None:
        try:
            await self.poller.poll_source(self.ctx.config.source(claim.name), claim, self.client)
        finally:
            self.polled_since_refresh = True
        if self.more_due:  # a slot is free and sources are waiting: don't wait for the tick
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.tick()))

    async def alerts(self) -> None:
        await self.poller.in_db(deliver_alerts, self.ctx)

    async def refresh_trends(self) -> None:
        if self.polled_since_refresh:
            self.polled_since_refresh = False
            await self.poller.in_db(rollups.refresh_quietly, self.ctx.engine, self.ctx.config.topics.keywords)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        self.stopping = True
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.running:
            log.info("waiting up to %.0fs for %d polls to finish", grace, len(self.running))
            under_way = dict(self.running)  # finished tasks leave self.running
            _, pending = await asyncio.wait(list(under_way), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
                for task in pending:
                    await self.poller.in_db(claims.release, self.ctx, under_way[task].source_id, self.owner)
        if self.client is not None:
            await self.client.aclose()
        self.poller.close()
        log.info("worker %s stopped", self.owner, extra={"worker": self.owner})


async def run_until_stopped(ctx: Context, stop: asyncio.Event) -> None:
    """`reviewmon worker`: the scheduler alone, until `stop` is set."""
    worker = Worker(ctx)
    await worker.start()
    try:
        await stop.wait()
    finally:
        await worker.stop()
