"""`reviewmon poll` on every core: the sources of one poll shared by several processes.

One Python process polls on one core. Past a hundred or so sources, reading answers and
storing pages keeps that core busy while the requests wait (bench/poll_many.py), so a
poll of many sources forks helper processes ([poll] processes; by default one per core
and per SOURCES_PER_PROCESS sources that can be claimed). Each polls its share, claiming
sources as its slots free up: service/polling/claims.py decides who polls what, exactly as
between two cron polls started together. The parent syncs the source rows before
forking and polls a share itself; then, once for all, it reports the busy sources,
refreshes the trends and sends the alerts. Each process loads VADER and the language
model itself, while its first requests are on their way.

A helper dies with its parent (Linux: PR_SET_PDEATHSIG), so a killed poll leaves no
process polling on; like any dead process's, its leases are then free to take.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from service.context import Context
from service.errors import ReviewmonError
from service.polling import claims
from service.polling.collector import fewer_collections
from service.polling.ingest import ingester_of
from service.polling.poll import (
    Poller,
    Progress,
    SourceResult,
    busy_results,
    chosen_sources,
    deliver_alerts,
    poll,
    sync_sources,
    warm_up,
)
from service.trends import rollups

log = logging.getLogger("reviewmon.poll")

SOURCES_PER_PROCESS = 100  # fewer sources than this keep one process busy for less than its start-up costs


def processes_for(ctx: Context, claimable: int) -> int:
    """How many processes a poll of `claimable` sources uses: [poll] processes, or one per
    core and per SOURCES_PER_PROCESS sources; never more than there are sources."""
    if ctx.config.poll.processes:
        return max(1, min(ctx.config.poll.processes, claimable))
    return max(1, min(os.cpu_count() or 1, math.ceil(claimable / SOURCES_PER_PROCESS)))


class PollProcessFailed(ReviewmonError):
    """One of a poll's processes died or failed: its share of the sources was not polled
    (their leases lapse, and the next poll takes them). `results` holds what the other
    processes polled, to report before failing."""

    def __init__(self, message: str, results: list[SourceResult]):
        super().__init__(message)
        self.results = results


def poll_on_all_cores(ctx: Context, names: list[str] | None = None, *, due_only: bool = False,
                      progress: Progress | None = None) -> list[SourceResult]:
    """What `service.poll.poll` does, over as many processes as the work is worth."""
    with fewer_collections():
        return _poll(ctx, names, due_only=due_only, progress=progress)


def _poll(ctx: Context, names: list[str] | None, *, due_only: bool, progress: Progress | None) -> list[SourceResult]:
    chosen = chosen_sources(ctx.config, names)
    started = ctx.clock()
    sync_sources(ctx)
    processes = processes_for(ctx, claims.claimable(ctx, chosen, due_only=due_only))
    if processes == 1:
        return asyncio.run(poll(ctx, names, due_only=due_only, progress=progress))
    warm_up(ctx)  # before the fork: the helpers share one copy of VADER instead of each loading its own
    ctx.engine.dispose()  # the helpers must not share the parent's database connections
    share = math.ceil(ctx.config.poll.concurrency / processes)
    fork = multiprocessing.get_context("fork")
    reports: Any = fork.SimpleQueue() if progress else None
    helpers = []
    for _ in range(processes - 1):
        receive, send = fork.Pipe(duplex=False)
        process = fork.Process(target=_helper, args=(ctx, names, due_only, share, started, send, reports, os.getpid()), daemon=True)
        process.start()
        send.close()
        helpers.append((process, receive))
    relay = threading.Thread(target=_relay, args=(reports, progress), daemon=True) if reports else None
    if relay:
        relay.start()
    results = asyncio.run(_own_share(ctx, names, due_only, share, started, progress))
    failures = []
    for process, receive in helpers:
        try:
            outcome, value = receive.recv()
        except EOFError:
            outcome, value = "error", "it stopped without a word"
        process.join()
        if outcome == "ok":
            results += value
        else:
            failures.append(f"a poll process (pid {process.pid}, exit code {process.exitcode}) failed: {value}")
    if relay:
        reports.put(None)
        relay.join()
    results += busy_results(ctx, names, due_only, results)
    if any(not r.busy for r in results):
        rollups.refresh_quietly(ctx.engine, ctx.config.topics.keywords)
    if ctx.config.alerts.channels:
        deliver_alerts(ctx)
    if failures:  # what the others polled is stored and reported; the failed share's leases lapse
        raise PollProcessFailed("; ".join(failures), results)
    return results


async def _own_share(ctx: Context, names: list[str] | None, due_only: bool, share: int, started: datetime,
                     progress: Progress | None) -> list[SourceResult]:
    poller = Poller(ctx, progress=progress, concurrency=share)
    ingester_of(ctx).pool.helpers = 0  # the cores are taken by the poll's own processes
    try:
        return await poller.run(names, due_only=due_only, share=started)
    finally:
        poller.close()


def _helper(ctx: Context, names: list[str] | None, due_only: bool, share: int, started: datetime, send: Connection,
            reports: Any, parent: int) -> None:
    """A forked helper: poll a share, send the results (or the error) to the parent."""
    _die_with_parent(parent)
    ctx.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    progress = (lambda name, records: reports.put((name, records))) if reports is not None else None
    try:
        results = asyncio.run(_own_share(ctx, names, due_only, share, started, progress))
        send.send(("ok", results))
    except BaseException as exc:
        log.exception("a poll process failed")
        send.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def _relay(reports: Any, progress: Progress) -> None:
    """The helpers' progress, shown by the parent's display."""
    while (report := reports.get()) is not None:
        progress(*report)


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
