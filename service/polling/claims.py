"""Claiming sources: a source is polled by one process at a time, without locking the world.

A process claims a source by writing its name and a lease expiry on the source's row,
in one short transaction:

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED     (other claimers skip the rows, never wait)
    SQLite:     BEGIN IMMEDIATE                        (claimers take turns for a few milliseconds)

The lease lasts the source's time budget plus [poll] lease_grace: a poll cannot run
longer (service/polling/poll.py times it out), so a lease still held after that belongs to a
process that died, and the source may be claimed again. Sooner, when the holder ran on
this machine and its process is gone (a cron poll killed a minute ago need not block
the next one). Whatever a dead process stored
is safe to read again: pages are upserts keyed by the platform's review id.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import func, or_, update
from sqlmodel import col, select

from service.config import SourceConfig
from service.context import Context
from service.models import PollRun, PollStatus, Source


def process_id() -> str:
    """Who holds a lease: host, pid and a random tag (pids are reused after a restart)."""
    return f"{_host()}:{os.getpid()}:{secrets.token_hex(3)}"


def _host() -> str:
    return socket.gethostname()[:60]


def _gone(owner: str) -> bool:
    """True when `owner` was a process on this machine that no longer runs. A zombie
    counts as gone: a killed poll's forked helper stays one until init reaps it, which
    takes seconds under load, and forever where the first process reaps nothing."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != _host() or not pid.isdigit():
        return False
    try:
        return psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:  # runs, as another user
        return False


@dataclass(frozen=True)
class Claim:
    source_id: int
    name: str
    lease_until: datetime
    first_poll: bool  # never polled successfully: its reviews are history, not news


def lease_for(ctx: Context, source: SourceConfig):
    return source.time_budget + ctx.config.poll.lease_grace


def _claimable(ctx: Context, names: list[str], *, due_only: bool, now: datetime, not_polled_since: datetime | None = None) -> list[Any]:
    """The WHERE clause of the sources among `names` that no live process holds (and,
    with `due_only`, whose due time has come; with `not_polled_since`, that no process
    has polled since then: the processes of one poll share the sources, once each)."""
    with ctx.session() as session:
        held = session.exec(
            select(Source.id, Source.lease_owner).where(col(Source.name).in_(names), col(Source.lease_until) >= now)
        ).all()
    # Leases of processes that died: by owner, not by source, so that a lease another
    # process has taken since we looked (a poll started beside us) is not taken from it.
    dead = {owner for _, owner in held if owner and _gone(owner)}
    where = [col(Source.name).in_(names), or_(col(Source.lease_until).is_(None), col(Source.lease_until) < now,
                                               col(Source.lease_owner).in_(dead))]
    if due_only:
        where.append(or_(col(Source.next_poll_at).is_(None), col(Source.next_poll_at) <= now))
    if not_polled_since is not None:
        where.append(or_(col(Source.last_polled_at).is_(None), col(Source.last_polled_at) < not_polled_since))
    return where


def claimable(ctx: Context, names: list[str], *, due_only: bool) -> int:
    """How many of the named sources a claim could take now (a poll sizes itself by it)."""
    if not names:
        return 0
    where = _claimable(ctx, names, due_only=due_only, now=ctx.clock())
    with ctx.session() as session:
        return session.exec(select(func.count()).select_from(Source).where(*where)).one()


def claim(ctx: Context, owner: str, names: list[str], *, due_only: bool, limit: int,
          not_polled_since: datetime | None = None) -> list[Claim]:
    """Claim up to `limit` of the named sources that no live process holds (and, with
    `due_only`, whose due time has come), most overdue first."""
    if not names or limit <= 0:
        return []
    now = ctx.clock()
    query = (
        select(Source.id, Source.name, Source.last_success_at)
        .where(*_claimable(ctx, names, due_only=due_only, now=now, not_polled_since=not_polled_since))
        .order_by(col(Source.next_poll_at).asc().nulls_first(), col(Source.id))
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it and has BEGIN IMMEDIATE
    )
    claims = []
    with ctx.session(write=True) as session:
        for source_id, name, last_success_at in session.exec(query).all():
            claims.append(Claim(source_id, name, now + lease_for(ctx, ctx.config.source(name)), first_poll=last_success_at is None))
        by_lease: dict[datetime, list[int]] = {}
        for taken in claims:
            by_lease.setdefault(taken.lease_until, []).append(taken.source_id)
        for until, ids in by_lease.items():
            session.exec(update(Source).where(col(Source.id).in_(ids)).values(lease_owner=owner, lease_until=until))
        if claims:
            # a poll run still "running" under a lease we could take was cut short by its process's death
            session.exec(
                update(PollRun)
                .where(col(PollRun.source_id).in_([c.source_id for c in claims]), PollRun.status == PollStatus.running)
                .values(status=PollStatus.failed, finished_at=now, error="interrupted: the polling process stopped")
            )
    return claims


def release(ctx: Context, source_id: int, owner: str) -> None:
    """Give a lease back (only if we still hold it)."""
    with ctx.session(write=True) as session:
        session.exec(
            update(Source).where(Source.id == source_id, Source.lease_owner == owner).values(lease_owner=None, lease_until=None)
        )


def holders(ctx: Context, names: list[str]) -> dict[str, str]:
    """Sources among `names` that another process holds right now: name -> holder."""
    now = ctx.clock()
    with ctx.session() as session:
        rows = session.exec(
            select(Source.name, Source.lease_owner).where(col(Source.name).in_(names), col(Source.lease_until) >= now)
        ).all()
    return {name: owner for name, owner in rows if owner}


def renew(ctx: Context, source_id: int, owner: str, lease: timedelta) -> bool:
    """Extend our lease (a long backfill renews it after every page); False if we lost it."""
    with ctx.session(write=True) as session:
        result = session.exec(
            update(Source).where(Source.id == source_id, Source.lease_owner == owner).values(lease_until=ctx.clock() + lease)
        )
        return result.rowcount == 1


def holder(ctx: Context, name: str) -> str | None:
    """The live process polling `name` right now, if any. A lease left by a process that
    died does not count: the next claim takes it."""
    owner = holders(ctx, [name]).get(name)
    return None if owner is None or _gone(owner) else owner


def release_all(ctx: Context, owner: str) -> None:
    """Give back every lease `owner` still holds (its polls were stopped: the web app's
    "Poll now" at shutdown). Their runs stay "running" until the next claim of the source
    records them as interrupted, as for any poll that was cut off."""
    with ctx.session(write=True) as session:
        session.exec(update(Source).where(Source.lease_owner == owner).values(lease_owner=None, lease_until=None))
