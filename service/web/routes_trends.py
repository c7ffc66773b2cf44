"""The marketers' dashboard and its CSV export: thin calls to service/trends/."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from service.desk import queries
from service.desk.users import Actor
from service.errors import ReviewmonError
from service.trends import periods, reports
from service.trends.export import FIELDS, csv_rows
from service.web.deps import allowed, get_ctx
from service.web.downloads import csv_download
from service.web.templating import render

router = APIRouter()
reader = allowed("read", "read trends")


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReviewmonError(f"{name} must be a date like 2026-11-01, not {value[:20]!r}") from None


def _period(request: Request) -> dict[str, Any]:
    q = request.query_params
    bucket = q.get("bucket") or "week"
    if bucket not in periods.BUCKETS:
        raise ReviewmonError(f"bucket must be one of {', '.join(periods.BUCKETS)}")
    end = _date(q.get("to"), "to") or datetime.now(timezone.utc).date()
    start = _date(q.get("from"), "from") or periods.default_start(end, bucket)
    return {"start": start, "end": end, "bucket": bucket, "source": q.get("source") or None, "location": q.get("location") or None}


def _report(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    ctx = get_ctx(request)
    period = _period(request)
    with ctx.session() as session:
        report = reports.report(session, topics=ctx.config.topics.keywords,
                                leave_out=queries.removed_sources(session, ctx.config), **period)
    return period, report.to_dict()


def _choices(request: Request) -> dict[str, list[str]]:
    ctx = get_ctx(request)
    with ctx.session() as session:
        return reports.filter_choices(session, queries.removed_sources(session, ctx.config))


@router.get("/trends")
def dashboard(request: Request, actor: Actor = Depends(reader)) -> Response:
    period, report = _report(request)
    # the reviews behind the figures: the same period, source and location on /reviews
    behind = {"source": period["source"], "location": period["location"], "since": period["start"].isoformat(),
              "until": period["end"].isoformat()}
    return render(request, "trends.html", {"period": period, "report": report, "export_query": request.url.query,
                                           "reviews_query": urlencode({k: v for k, v in behind.items() if v}),
                                           **_choices(request)})


@router.get("/trends.csv")
def export(request: Request, actor: Actor = Depends(reader)) -> StreamingResponse:
    period, report = _report(request)

    return csv_download(csv_rows(report), FIELDS, f"reviewmon-trends-{period['start']}-{period['end']}.csv")
