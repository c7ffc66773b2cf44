"""Replies are paced per profile where the platform limits edits (Google Business Profile:
10 edits a minute per profile, not raisable): a batch waits before the request that would
exceed the limit, instead of tripping the quota and failing the rest of the batch.

The pacer reserves each request's moment before it waits, so replies posted at the same
time in one process (a batch and a click on the web page) share the limit. One pacer
lives for the process (`PACER`); tests give `posting.post` their own, with a clock and a
sleep that do not wait.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

PERIOD = 60.0  # seconds: the platforms state their edit limits per minute
MARGIN = 1.0  # seconds added to each minute, for the request's way to the platform's clock


class Pacer:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep, period: float = PERIOD, margin: float = MARGIN):
        self._clock, self._sleep = clock, sleep
        self._period, self._margin = period, margin
        self._sent: dict[Hashable, deque[float]] = {}  # per key, the moments given out, oldest first

    def reserve(self, key: Hashable, limit: int) -> float:
        """The seconds to wait before the next request for `key`, its moment booked now."""
        now = self._clock()
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= now - self._period - self._margin:
            sent.popleft()
        moment = now if len(sent) < limit else max(now, sent[-limit] + self._period + self._margin)
        sent.append(moment)
        return moment - now

    async def wait(self, key: Hashable, limit: int | None) -> None:
        """Wait until a request for `key` keeps to `limit` a minute (None: no limit)."""
        if limit is None:
            return
        delay = self.reserve(key, limit)
        if delay > 0:
            await self._sleep(delay)


PACER = Pacer()
