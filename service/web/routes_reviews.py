"""Every stored review, not only those waiting for an answer (`reviewmon reviews list`
and `reviews show`): for a marketer reading what customers say, or an owner checking why
a review was or was not flagged.

    GET /reviews          newest first; filter by source, location, stars, flag, words, dates; paged
    GET /reviews/{id}     one review in full: its verdict and why, marks, earlier versions, its draft
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from service import queries
from service.users import Actor
from service.web.deps import allowed, get_ctx
from service.web.filters import PAGE_SIZES, as_day, as_int, day_range
from service.web.templating import render

router = APIRouter()
reader = allowed("read", "read reviews")
FLAGS = {"negative": True, "not negative": False}


@router.get("/reviews")
def reviews(
    request: Request,
    actor: Actor = Depends(reader),
    source: str | None = None,
    location: str | None = None,
    rating: str | None = None,
    flag: str | None = None,
    q: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = Query(50, ge=1, le=max(PAGE_SIZES)),
    offset: int = Query(0, ge=0),
) -> Response:
    ctx = get_ctx(request)
    errors: list[str] = []
    first, last = as_day(since, errors, "from"), as_day(until, errors, "to")
    start, end = day_range(first, last)
    search = (q or "").strip()[:200] or None
    place = (location or "").strip() or None
    with ctx.session() as session:
        rows = list(queries.review_rows(session, source=source or None, location=place, rating=as_int(rating),
                                        negative=FLAGS.get(flag or ""), search=search, since=start, until=end,
                                        limit=limit + 1, offset=offset))
        names = queries.stored_source_names(session)
    shown = {k: v for k, v in {"source": source or None, "location": place, "rating": as_int(rating),
                               "flag": flag if flag in FLAGS else None, "q": search,
                               "since": first and first.isoformat(), "until": last and last.isoformat()}.items()
             if v is not None}

    def page(at: int) -> str:
        return "/reviews?" + urlencode({**shown, "limit": limit, "offset": at})

    return render(request, "reviews.html", {
        "rows": rows[:limit], "filters": shown, "errors": errors, "offset": offset, "limit": limit,
        "prev_url": page(max(0, offset - limit)) if offset else None, "next_url": page(offset + limit) if len(rows) > limit else None,
        "sources": names, "flags": list(FLAGS), "page_sizes": PAGE_SIZES,
    })


@router.get("/reviews/{review_id}")
def review(request: Request, review_id: int, actor: Actor = Depends(reader)) -> Response:
    ctx = get_ctx(request)
    with ctx.session() as session:
        found = queries.review(session, review_id)
    source = next((s for s in ctx.config.sources if s.name == found["source"]), None)
    return render(request, "review.html", {"review": found, "source_type": source.type if source else None})
