"""Every stored review, not only those waiting for an answer (`reviewmon reviews list`
and `reviews show`): for a marketer reading what customers say, or an owner checking why
a review was or was not flagged.

    GET /reviews          newest first; filter by source, location, stars, flag, words, dates; paged
    GET /reviews.csv      every review the same filters find, as CSV for a spreadsheet
    GET /reviews/{id}     one review in full: its verdict and why, marks, earlier versions, its draft
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from service import queries
from service.output import csv_value
from service.trend_export import spreadsheet_safe
from service.users import Actor
from service.web.deps import allowed, get_ctx
from service.web.filters import PAGE_SIZES, as_day, as_int, day_range
from service.web.templating import render

router = APIRouter()
reader = allowed("read", "read reviews")
FLAGS = {"negative": True, "not negative": False}
CSV_ROWS_PER_CHUNK = 1000


def _filters(request: Request, errors: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The query's filters as review_rows() takes them, and as the page shows them back
    (the values that were understood)."""
    q = request.query_params
    first, last = as_day(q.get("since"), errors, "from"), as_day(q.get("until"), errors, "to")
    start, end = day_range(first, last)
    flag = q.get("flag") if q.get("flag") in FLAGS else None
    shown = {"source": q.get("source") or None, "location": (q.get("location") or "").strip() or None,
             "rating": as_int(q.get("rating")), "flag": flag, "q": (q.get("q") or "").strip()[:200] or None,
             "since": first and first.isoformat(), "until": last and last.isoformat()}
    shown = {k: v for k, v in shown.items() if v is not None}
    wanted = {"source": shown.get("source"), "location": shown.get("location"), "rating": shown.get("rating"),
              "negative": FLAGS.get(flag or ""), "search": shown.get("q"), "since": start, "until": end}
    return wanted, shown


@router.get("/reviews")
def reviews(request: Request, actor: Actor = Depends(reader), limit: int = Query(50, ge=1, le=max(PAGE_SIZES)),
            offset: int = Query(0, ge=0)) -> Response:
    ctx = get_ctx(request)
    errors: list[str] = []
    wanted, shown = _filters(request, errors)
    with ctx.session() as session:
        rows = list(queries.review_rows(session, **wanted, limit=limit + 1, offset=offset))
        names = queries.stored_source_names(session)

    def page(at: int) -> str:
        return "/reviews?" + urlencode({**shown, "limit": limit, "offset": at})

    return render(request, "reviews.html", {
        "rows": rows[:limit], "filters": shown, "errors": errors, "offset": offset, "limit": limit,
        "prev_url": page(max(0, offset - limit)) if offset else None, "next_url": page(offset + limit) if len(rows) > limit else None,
        "export_url": "/reviews.csv" + (f"?{urlencode(shown)}" if shown else ""),
        "sources": names, "flags": list(FLAGS), "page_sizes": PAGE_SIZES,
    })


@router.get("/reviews.csv")
def export(request: Request, actor: Actor = Depends(reader)) -> StreamingResponse:
    """Streamed: a million reviews never sit in memory. Text cells a spreadsheet would run
    as a formula are defused (review texts come from strangers)."""
    ctx = get_ctx(request)
    wanted, _ = _filters(request, [])

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=queries.REVIEW_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        with ctx.session() as session:
            for count, row in enumerate(queries.review_rows(session, **wanted), start=1):
                writer.writerow({k: spreadsheet_safe(csv_value(row.get(k))) for k in queries.REVIEW_FIELDS})
                if count % CSV_ROWS_PER_CHUNK == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="reviewmon-reviews.csv"'})


@router.get("/reviews/{review_id}")
def review(request: Request, review_id: int, actor: Actor = Depends(reader)) -> Response:
    ctx = get_ctx(request)
    with ctx.session() as session:
        found = queries.review(session, review_id)
    source = next((s for s in ctx.config.sources if s.name == found["source"]), None)
    return render(request, "review.html", {"review": found, "source_type": source.type if source else None})
