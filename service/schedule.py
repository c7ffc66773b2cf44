"""When a source is next due: pure functions of the schedule and the clock.

A schedule is either an interval ("90s", "15m", "1h", "1h30m", "1d") or a five-field
cron expression ("*/20 7-22 * * *", read by APScheduler's CronTrigger).
"""

from __future__ import annotations

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
