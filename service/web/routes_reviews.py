"""Every stored review, not only those waiting for an answer (`reviewmon reviews list`
and `reviews show`): for a marketer reading what customers say, or an owner checking why
a review was or was not flagged.

    GET /reviews          newest first; filter by source, location, stars, flag, words, dates; paged
    GET /reviews.csv      every review the same filters find, as CSV for a spreadsheet
    GET /reviews/{id}     one review in full: its verdict and why, marks, earlier versions, its draft
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from service.desk import queries
from service.desk.users import Actor
from service.models import MAX_ID
from service.web.deps import RowId, allowed, get_ctx, source_type
from service.web.downloads import csv_download
from service.web.filters import PAGE_SIZES, as_int, dates, page_links
from service.web.templating import render

router = APIRouter()
reader = allowed("read", "read reviews")
FLAGS = {"negative": True, "not negative": False}


def _filters(request: Request, errors: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The query's filters as review_rows() takes them, and as the page shows them back
    (the values that were understood)."""
    q = request.query_params
    start, end, shown_dates = dates(q.get("since"), q.get("until"), errors)
    flag = q.get("flag") if q.get("flag") in FLAGS else None
    shown = {"source": q.get("source") or None, "location": (q.get("location") or "").strip() or None,
             "rating": as_int(q.get("rating")), "flag": flag, "q": (q.get("q") or "").strip()[:200] or None}
    shown = {**{k: v for k, v in shown.items() if v is not None}, **shown_dates}
    wanted = {"source": shown.get("source"), "location": shown.get("location"), "rating": shown.get("rating"),
              "negative": FLAGS.get(flag or ""), "search": shown.get("q"), "since": start, "until": end}
    return wanted, shown


@router.get("/reviews")
def reviews(request: Request, actor: Actor = Depends(reader), limit: int = Query(50, ge=1, le=max(PAGE_SIZES)),
            offset: int = Query(0, ge=0, le=MAX_ID)) -> Response:
    ctx = get_ctx(request)
    errors: list[str] = []
    wanted, shown = _filters(request, errors)
    with ctx.session() as session:
        rows = list(queries.review_rows(session, **wanted, limit=limit + 1, offset=offset))
        names = queries.stored_source_names(session)
    return render(request, "reviews.html", {
        "rows": rows[:limit], "filters": shown, "errors": errors, "offset": offset, "limit": limit,
        **page_links("/reviews", shown, limit, offset, more=len(rows) > limit),
        "export_url": "/reviews.csv" + (f"?{urlencode(shown)}" if shown else ""),
        "sources": names, "flags": list(FLAGS), "page_sizes": PAGE_SIZES,
    })


@router.get("/reviews.csv")
def export(request: Request, actor: Actor = Depends(reader)) -> StreamingResponse:
    ctx = get_ctx(request)
    wanted, _ = _filters(request, [])

    def rows() -> Iterator[dict[str, Any]]:
        with ctx.session() as session:
            yield from queries.review_rows(session, **wanted)

    return csv_download(rows(), queries.REVIEW_FIELDS, "reviewmon-reviews.csv")


@router.get("/reviews/{review_id}")
def review(request: Request, review_id: RowId, actor: Actor = Depends(reader)) -> Response:
    ctx = get_ctx(request)
    with ctx.session() as session:
        found = queries.review(session, review_id)
    return render(request, "review.html", {"review": found, "platform": ctx.config.platform_of(found["source"], None)})
