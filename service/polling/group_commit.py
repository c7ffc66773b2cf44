"""Group commit: many small write transactions of a poll become a few.

Polling 500 sources makes thousands of tiny transactions (a run started, a page of two
reviews with its cursor, a run recorded). Each pays a BEGIN, a COMMIT (on SQLite, a
write-ahead-log sync) and a trip to the database thread, and on SQLite each waits for
the one write lock. The poller hands every such transaction to a GroupCommit instead,
as a job: a function of the session. While one batch is being written the next jobs
queue, and they are written together in one transaction.

Each job stays atomic: it lands whole with its batch or not at all, so a page and its
cursor still land together. When a batch fails (a bad page, the disk full, a dropped
connection), its jobs are written again one by one, each in its own transaction, so a
failure costs only the source whose job failed. Jobs must therefore not change anything
outside the database: they return what the caller needs, and the caller keeps it only
once the job's transaction has committed.

A job may also be `Together(write_all, item, prepare_all)`: the items of a batch that
share one `write_all` go to it in one call (the pages of many sources are stored with
one set of statements, service/polling/ingest.py `ingest_many`), and it returns their results
in order. `prepare_all`, if given, first sees the same items in a read-only session,
outside the write transaction: the place for CPU work that needs no lock (scoring
reviews), so that other processes can write meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session

from service.context import Context

log = logging.getLogger("reviewmon.poll")
T = TypeVar("T")
I = TypeVar("I")


@dataclass(frozen=True)
class Together(Generic[I]):
    """A job written in one call with the other items of its batch that share `write_all`."""

    write_all: Callable[[Session, list[I]], list[Any]]
    item: I
    prepare_all: Callable[[Session, list[I]], None] | None = None


Job = Callable[[Session], Any] | Together[Any]

MAX_BATCH = 100  # jobs per transaction: enough to amortise the commit, short enough not to hold the lock long


class GroupCommit:
    """Writes queued jobs in batches on `executor` (the poller's database thread)."""

    def __init__(self, ctx: Context, executor: Executor, *, max_batch: int = MAX_BATCH):
        self.ctx = ctx
        self.executor = executor
        self.max_batch = max_batch
        self._queue: list[tuple[Job, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, job: Callable[[Session], T] | Together[Any]) -> Any:
        """Run `job` in a write transaction, with whatever else is queued; its result,
        once committed, or its exception."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            batch = [(job, future) for job, future in self._queue[: self.max_batch] if not future.done()]  # cancelled: dropped
            del self._queue[: self.max_batch]
            if not batch:
                continue
            try:
                outcomes = await loop.run_in_executor(self.executor, self._commit, [job for job, _ in batch])
            except BaseException as exc:  # the executor itself is gone: tell every waiter
                outcomes = [(False, exc)] * len(batch)
            for (_, future), (ok, value) in zip(batch, outcomes):
                if not future.done():
                    future.set_result(value) if ok else future.set_exception(value)

    def _commit(self, jobs: list[Job]) -> list[tuple[bool, Any]]:
        """All jobs in one transaction; if that fails, each job in its own."""
        self._prepare(jobs)
        if len(jobs) > 1:
            try:
                with self.ctx.session(write=True) as session:
                    return [(True, value) for value in _run(session, jobs)]
            except Exception:
                pass  # which job failed, and whether the others can land, the one-by-one pass tells
        outcomes: list[tuple[bool, Any]] = []
        for job in jobs:
            try:
                with self.ctx.session(write=True) as session:
                    outcomes.append((True, _run(session, [job])[0]))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes


    def _prepare(self, jobs: list[Job]) -> None:
        groups: dict[Any, list[Any]] = {}
        for job in jobs:
            if isinstance(job, Together) and job.prepare_all is not None:
                groups.setdefault(job.prepare_all, []).append(job.item)
        for prepare_all, items in groups.items():
            try:
                with self.ctx.session() as session:
                    prepare_all(session, items)
            except Exception:
                log.warning("could not prepare a batch before writing it; it is worked out while writing", exc_info=True)


def _run(session: Session, jobs: list[Job]) -> list[Any]:
    """Each job's result, in order; the items of `Together` jobs grouped by their `write_all`."""
    results: list[Any] = [None] * len(jobs)
    groups: dict[Any, list[int]] = {}
    for index, job in enumerate(jobs):
        if isinstance(job, Together):
            groups.setdefault(job.write_all, []).append(index)
        else:
            results[index] = job(session)
    for write_all, indexes in groups.items():
        for index, value in zip(indexes, write_all(session, [jobs[i].item for i in indexes]), strict=True):
            results[index] = value
    return results
