"""What /healthz, /metrics and `reviewmon worker --metrics-port` report about the
database as a whole (every process's work), next to the per-process counters in
service/metrics.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_
from sqlmodel import col, select

from service import db
from service.context import Context
from service.errors import NotMigrated
from service.models import Alert, Draft, DraftStatus, Review, Source

log = logging.getLogger("reviewmon.health")

OVERDUE_AFTER = timedelta(minutes=5)  # a due source not claimed for this long: no scheduler is running


@dataclass
class Figures:
    drafts_waiting: int
    sources_by_status: dict[str, int]
    sources_overdue: int
    reviews_by_source: dict[str, int]
    alerts_by_status: dict[str, int]


def figures(ctx: Context) -> Figures:
    now = ctx.clock()
    configured = [s.name for s in ctx.config.sources if s.enabled]
    with ctx.session() as session:
        waiting = session.exec(select(func.count()).select_from(Draft).where(Draft.status == DraftStatus.drafted)).one()
        statuses = dict(session.exec(
            select(Source.status, func.count()).where(col(Source.name).in_(configured)).group_by(Source.status)).all())
        overdue = session.exec(select(func.count()).select_from(Source).where(
            col(Source.name).in_(configured), col(Source.next_poll_at) < now - OVERDUE_AFTER,
            or_(col(Source.lease_until).is_(None), col(Source.lease_until) < now))).one()
        reviews = dict(session.exec(select(Source.name, func.count(Review.id)).join(Review, isouter=True).group_by(Source.name)).all())
        alerts = dict(session.exec(select(Alert.status, func.count()).group_by(Alert.status)).all())
    return Figures(waiting, statuses, overdue, reviews, alerts)


def healthz(ctx: Context, *, scheduler_running: bool | None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body). 503 only when this process cannot do its job (no database,
    an old schema, a dead scheduler); failing sources are the platforms' trouble, reported
    but not fatal."""
    body: dict[str, Any] = {"status": "ok"}
    try:
        db.check_migrated(ctx.engine)
        found = figures(ctx)
    except Exception as exc:  # the point of a health check: say what is wrong, don't crash
        # ...in words that name no file or server (those go to the log)
        log.warning("health check: the database cannot be used: %s", exc)
        if isinstance(exc, NotMigrated):
            return 503, {"status": "down", "database": "not at this version's schema: run `reviewmon migrate`"}
        return 503, {"status": "down", "database": f"cannot be used ({type(exc).__name__}); the log says why"}
    body["database"] = "ok"
    if scheduler_running is not None:
        body["scheduler"] = "running" if scheduler_running else "stopped"
        if not scheduler_running:
            body["status"] = "down"
    body["sources"] = {**found.sources_by_status, "overdue": found.sources_overdue}
    body["drafts_waiting"] = found.drafts_waiting
    body["alerts_failed"] = found.alerts_by_status.get("failed", 0)
    return (503 if body["status"] == "down" else 200), body


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = figures(self.ctx)
        yield GaugeMetricFamily("reviewmon_drafts_waiting", "Drafted replies waiting for an owner.", value=found.drafts_waiting)
        sources = GaugeMetricFamily("reviewmon_sources", "Configured, enabled sources by health status.", labels=["status"])
        for status, n in sorted(found.sources_by_status.items()):
            sources.add_metric([status], n)
        yield sources
        yield GaugeMetricFamily("reviewmon_sources_overdue", "Sources due for more than 5 minutes and not being polled.", value=found.sources_overdue)
        reviews = GaugeMetricFamily("reviewmon_reviews_stored", "Reviews stored, by source.", labels=["source"])
        for name, n in sorted(found.reviews_by_source.items()):
            reviews.add_metric([name], n)
        yield reviews
        alerts = GaugeMetricFamily("reviewmon_alerts", "Alerts in the outbox, by status.", labels=["status"])
        for status, n in sorted(found.alerts_by_status.items()):
            alerts.add_metric([status], n)
        yield alerts
