""""Poll now" on the sources page: the web app polls the source at once, in the background
of its own event loop, and the sources page shows how it went.

A click starts a task and the request answers at once (post/redirect/get); the run is
recorded in the database like any other poll (poll_runs, the source's health), and the
sources page reads it from there. Who polls:

- Without the scheduler (`reviewmon serve --no-scheduler`): a task here runs
  `poll(ctx, [name])`, what `reviewmon poll --source NAME` runs. These tasks take turns,
  one poll at a time: a process's reading and storing pieces (service/polling/ingest.py
  `ingester_of`, its scoring helpers) are made for one poller at a time, as in the CLI and
  the worker, so a second source clicked meanwhile waits for the first to end.
- With the scheduler: the scheduler's worker polls it at once (service/polling/worker.py
  `Worker.poll_now`), with its poller and HTTP client, as it polls a due source, so that
  this process still has one poller; the worker's stop waits for it like any of its polls.

Overlap: a source is polled by one process at a time (service/polling/claims.py). A click
on a source being polled right now, by this web app, its scheduler, a worker, cron or
the CLI, starts nothing and says so; the claim itself settles a race the check missed.
Errors: a source that fails is recorded as a failed run, as any poll records it; an error
around the poll (the database unreachable before the run began) is logged and shown on
the sources page; neither reaches the web app. At shutdown (the app's lifespan) polls
under way get a grace period, then are cancelled and their leases given back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool

from service.context import Context
from service.polling import claims

log = logging.getLogger("reviewmon.web")

STOP_GRACE = 10.0  # seconds polls under way get to finish when the web app stops


@dataclass(frozen=True)
class Answer:
    """What a click did, for the flash message."""

    message: str
    kind: str = "ok"  # the flash's kind: ok, warn, error


class PollNow:
    """The web app's "Poll now" polls, at most one per source, for as long as it serves."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.owner = claims.process_id()  # the leases of this web app's own polls
        self.worker: Any = None  # the scheduler's Worker, while the app runs it (set by the lifespan)
        self.tasks: dict[str, asyncio.Task[Any]] = {}  # by source: polls asked for here, under way
        self.ours: set[asyncio.Task[Any]] = set()  # those run here (not by the worker): stopped at shutdown
        self.notes: dict[str, tuple[datetime, str]] = {}  # by source: when and why a poll asked for here failed outside a run
        self.polling: str | None = None  # the source whose poll has its turn
        self.stopping = False
        self._turn: asyncio.Lock | None = None

    def under_way(self) -> dict[str, str]:
        """Sources whose poll was asked for here and has not ended: what to show for each."""
        return {name: "waiting for another poll to end…" if self.polling not in (None, name) else "polling now…"
                for name, task in self.tasks.items() if not task.done()}

    def _asked(self, name: str) -> bool:
        task = self.tasks.get(name)
        return task is not None and not task.done()

    async def start(self, name: str) -> Answer:
        """Poll the source `name` (configured and enabled) at once, in the background."""
        if self._stopping():
            return self._not_polled(name)
        holder = None if self._asked(name) else await run_in_threadpool(claims.holder, self.ctx, name)
        if self._asked(name) or holder is not None:  # (asked again: another click may have started it meanwhile)
            return Answer(f"{name} is being polled now ({self._who(holder)}); this page shows how it went when it ends. "
                          "No second poll was started.")
        self.notes.pop(name, None)
        if self.worker is not None:
            task = await self.worker.poll_now(name)
            if task is None and self._stopping():
                return self._not_polled(name)
            if task is None:  # claimed by another process since the check above
                return Answer(f"{name} was being polled by another process just now; no second poll was started.")
        else:
            task = asyncio.create_task(self._poll(name), name=f"poll now {name}")
            self.ours.add(task)
            task.add_done_callback(self.ours.discard)
        self.tasks[name] = task
        task.add_done_callback(lambda done: self.tasks.pop(name) if self.tasks.get(name) is done else None)
        return Answer(f"Polling {name} now. This page shows how it went when it ends.")

    def _stopping(self) -> bool:
        return self.stopping or (self.worker is not None and not self.worker.is_running)

    def _not_polled(self, name: str) -> Answer:
        return Answer(f"{name} is not polled: the web app is stopping, and nothing here will poll it. The next "
                      f"`reviewmon poll` (cron) or a worker polls it when it is due; `reviewmon poll --source {name}` "
                      "polls it now from a shell.", "error")

    def _who(self, holder: str | None) -> str:
        if holder is None:
            return "asked for here"
        if holder == self.owner or (self.worker is not None and holder == self.worker.owner):
            return "by this web app"
        return f"by another process: {holder}"

    async def _poll(self, name: str) -> None:
        """`reviewmon poll --source NAME`, in turn with the other polls asked for here."""
        from service.polling.poll import describe, poll

        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            self.polling = name
            try:
                results = await poll(self.ctx, [name], owner=self.owner)
            except Exception as exc:  # around the run (its own failures are recorded with it): the database, most likely
                log.exception("Poll now: polling %s failed", name)
                self.notes[name] = (self.ctx.clock(), f"Poll now could not poll it: {describe(exc)}. The server's log says more.")
                return
            finally:
                self.polling = None
        for result in results:
            if result.busy:  # another process claimed it between the click and this poll: its run is the one shown
                log.info("Poll now: %s was being polled already by %s", name, result.busy)

    def notes_since(self, last_runs: dict[str, dict[str, Any]]) -> dict[str, str]:
        """The failures outside a run worth showing: those no run of the source has followed."""
        return {name: message for name, (at, message) in self.notes.items()
                if name not in last_runs or last_runs[name]["started_at"] < at}

    async def stop(self, grace: float | None = None) -> None:
        """At shutdown: no new polls; the polls run here get `grace` seconds to end, then
        are cancelled and their leases given back. (The worker stops its own.)"""
        self.stopping = True
        if not self.ours:
            return
        ours = list(self.ours)
        _, pending = await asyncio.wait(ours, timeout=STOP_GRACE if grace is None else grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.info("Poll now: %d polls under way were stopped with the web app", len(pending))
            try:
                await run_in_threadpool(claims.release_all, self.ctx, self.owner)
            except Exception:
                log.exception("Poll now: the leases of the stopped polls could not be given back; they lapse on their own")
