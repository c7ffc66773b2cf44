"""When a source is next due: pure functions of the schedule and the clock.

A schedule is either an interval ("90s", "15m", "1h", "1h30m", "1d") or a five-field
cron expression ("*/20 7-22 * * *", read by APScheduler's CronTrigger).

Due times get jitter, so that a thousand sources on "15m" do not all fire in the same
second: an offset of up to a tenth of the schedule's gap (and at most [poll] jitter),
the same for a given source and due time (a hash, not a random draw, so that every
process computes the same due time). A failing source backs off: the schedule's gap
doubled at each failure in a row, up to [poll] max_backoff (or the gap, if longer).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger

from connectors.base import DURATION_PATTERN, parse_duration

MIN_INTERVAL = timedelta(seconds=30)


@dataclass(frozen=True)
class Schedule:
    text: str
    interval: timedelta | None = None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Read a schedule; ValueError with a readable message when it is neither form."""
        compact = text.strip().lower().replace(" ", "")
        if DURATION_PATTERN.match(compact):
            interval = parse_duration(compact)
            if interval < MIN_INTERVAL:
                raise ValueError(f"schedule {text!r} is shorter than {int(MIN_INTERVAL.total_seconds())}s")
            return cls(text=text.strip(), interval=interval)
        try:
            CronTrigger.from_crontab(text.strip(), timezone=timezone.utc)
        except ValueError as exc:
            raise ValueError(
                f"schedule {text!r} is neither an interval like '15m' or '1h' nor a cron expression ({exc})"
            ) from None
        return cls(text=text.strip())

    def next_after(self, moment: datetime) -> datetime:
        """The first due time after `moment` (an aware datetime)."""
        if self.interval is not None:
            return moment + self.interval
        trigger = CronTrigger.from_crontab(self.text, timezone=timezone.utc)
        return trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))

    def longest_gap(self, start: datetime | None = None) -> timedelta:
        """The longest wait between two polls (for a cron schedule: over its next 60 runs)."""
        if self.interval is not None:
            return self.interval
        moment = start or datetime.now(timezone.utc)
        times = [moment]
        for _ in range(60):
            times.append(self.next_after(times[-1]))
        return max(b - a for a, b in zip(times, times[1:]))

    def __str__(self) -> str:
        return self.text


def jitter(key: str, due: datetime, schedule: Schedule, cap: timedelta) -> timedelta:
    """A stable offset in [0, min(cap, gap / 10)) for source `key` at `due`."""
    spread = min(cap, schedule.longest_gap(due) / 10)
    digest = hashlib.sha256(f"{key}|{due.isoformat()}".encode()).digest()
    return spread * (int.from_bytes(digest[:8], "big") / 2**64)


def next_due(schedule: Schedule, now: datetime, *, key: str, jitter_cap: timedelta,
             failures: int = 0, max_backoff: timedelta = timedelta(hours=6)) -> datetime:
    """When a source polled at `now` is due again, after `failures` failed polls in a row."""
    due = schedule.next_after(now)
    due += jitter(key, due, schedule, jitter_cap)
    if failures > 0:
        gap = schedule.longest_gap(now)
        wait = min(gap * 2 ** min(failures - 1, 16), max(max_backoff, gap))
        due = max(due, now + wait)
    return due
