"""Incremental reading, shared by the platform connectors.

Platforms list reviews newest-changed first. A poll reads pages until it reaches
reviews older than the high-water mark saved last time, less a safety margin (clocks
and platform indexing are not exact). Every `full_sync_every` the poll reads the whole
listing instead, because some platforms skip reviews on later pages (Google, 2026):
only a full listing may declare reviews removed. `PageGuard` keeps a misbehaving
platform from looping: a page-count ceiling and a check for repeated page tokens.

The cursor saved for a source: {"latest": ISO time of the newest change seen,
"full_sync_at": ISO time of the last complete listing}.

A backfill (`reviewmon backfill`) reads a listing from its first page to its last,
whatever is stored; its pages carry resume cursors instead, and `backfill_guard` keeps
only the repeated-token check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.base import InvalidRecord, RowError, timestamp


@dataclass(frozen=True)
class SyncPlan:
    full: bool
    stop_before: datetime | None  # incremental: stop once reviews are older than this
    previous: Mapping[str, Any]
    started: datetime

    @classmethod
    def make(cls, cursor: Mapping[str, Any] | None, *, full_sync_every: timedelta, margin: timedelta,
             now: datetime | None = None) -> SyncPlan:
        cursor = cursor or {}
        now = now or datetime.now(timezone.utc)
        try:
            latest = timestamp(cursor.get("latest"), "cursor.latest")
            full_at = timestamp(cursor.get("full_sync_at"), "cursor.full_sync_at")
        except InvalidRecord:  # a cursor from an older version or a hand edit: start over
            latest = full_at = None
        full = latest is None or full_at is None or now - full_at >= full_sync_every
        return cls(full=full, stop_before=None if full else latest - margin, previous=cursor, started=now)

    def reached_known(self, oldest_on_page: datetime | None) -> bool:
        return self.stop_before is not None and oldest_on_page is not None and oldest_on_page < self.stop_before

    def cursor_after(self, newest: datetime | None, *, complete: bool) -> dict[str, Any]:
        """The cursor to save once every page of this poll is stored."""
        previous_latest = timestamp(self.previous.get("latest"), "latest") if self.previous.get("latest") else None
        latest = max((t for t in (newest, previous_latest) if t is not None), default=None)
        cursor: dict[str, Any] = {}
        if latest is not None:
            cursor["latest"] = latest.isoformat()
        if complete:
            cursor["full_sync_at"] = self.started.isoformat()
        elif self.previous.get("full_sync_at"):
            cursor["full_sync_at"] = self.previous["full_sync_at"]
        return cursor


@dataclass
class PageGuard:
    """Stops paging at a ceiling or when the platform repeats itself; says why."""

    max_pages: int
    pages: int = 0
    seen_tokens: set[str] = field(default_factory=set)
    stopped: RowError | None = None

    def next_page(self, token: str | None) -> bool:
        """Call before each page after the first; False means stop (see .stopped)."""
        if token is not None:
            if token in self.seen_tokens:
                self.stopped = RowError("paging", f"the platform repeated page token {token[:40]!r}; stopped reading there")
                return False
            self.seen_tokens.add(token)
        if self.pages >= self.max_pages:
            self.stopped = RowError("paging", f"stopped after {self.max_pages} pages (max_pages); the rest is read next time")
            return False
        self.pages += 1
        return True


BACKFILL_MAX_PAGES = 100_000
"""A backfill reads to the end of the listing; this only stops a platform that pages forever."""

BACKFILL_DONE: dict[str, Any] = {"done": True}
"""The resume cursor of a backfill's last page: nothing is left to read."""


def backfill_guard() -> PageGuard:
    """The PageGuard of a backfill: no ceiling worth the name, the repeated-token check kept."""
    return PageGuard(BACKFILL_MAX_PAGES)


def backfill_done(resume: Mapping[str, Any] | None) -> bool:
    return bool(resume) and resume.get("done") is True


def resume_page(resume: Mapping[str, Any] | None, key: str = "page") -> int:
    """The page (or line) number a resume cursor names; 1 (0 for lines) when absent or unreadable."""
    value = (resume or {}).get(key)
    first = 1 if key == "page" else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= first else first


def latest_seen(cursor: Mapping[str, Any] | None, reviews: list[Any]) -> dict[str, Any] | None:
    """{"latest": the newest review time seen so far}: the whole cursor of a source that
    re-reads a short listing every time (Yelp, Tripadvisor), kept for people reading the
    source's state."""
    times = [r.created_at for r in reviews if r.created_at is not None]
    try:
        previous = timestamp((cursor or {}).get("latest"), "cursor.latest")
    except InvalidRecord:
        previous = None
    if previous is not None:
        times.append(previous)
    return {"latest": max(times).isoformat()} if times else None
