"""The API's routes: thin calls to the service functions the CLI and the web pages call
(service/desk/queries.py, approvals.py, service/trends/). Who may do what is decided by
those functions, for the token's actor ("token:NAME" with the token's role).

    GET  /reviews                 the filters of `reviews list`, and `suspicious` (a triage mark); paged
    GET  /reviews/{id}            as `reviews show --format json`
    GET  /drafts                  the filters of `drafts list`; paged
    GET  /drafts/{id}             the draft with its history
    PUT  /drafts/{id}             {"text": ...}: saved even when the guard refuses it (then 422)
    POST /drafts/{id}/approve     optional {"seen_text": ...}; 422 with the guard's reasons
    POST /drafts/{id}/reject      optional {"reason": ...}
    GET  /trends                  the parameters and JSON of `reviewmon trends --format json`
    GET  /sources                 as `reviewmon sources --format json`; paged
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from service.desk import approvals, queries
from service.desk.users import Actor, require
from service.errors import NotFound, PolicyViolation, ReviewmonError
from service.models import DraftStatus
from service.trends import periods, reports
from service.web.api import paging, schemas
from service.web.api.auth import error

MAX_ID = 2**63 - 1


def token_actor(request: Request) -> Actor:
    """The actor of the request's token (api.auth.TokenAuth put it there)."""
    return request.state.actor


def reader(request: Request) -> Actor:
    return require(token_actor(request), "read", "read through the API")


Reader = Annotated[Actor, Depends(reader)]
Acting = Annotated[Actor, Depends(token_actor)]
Limit = Annotated[int, Query(ge=1, le=paging.MAX_LIMIT, description="rows a page holds at most")]
Cursor = Annotated[str | None, Query(description="the `cursor` of a page's `next` URL; none: the first page")]
router = APIRouter()


def _ctx(request: Request) -> Any:
    return request.app.state.ctx


def _known(row_id: int, what: str) -> int:
    if not 1 <= row_id <= MAX_ID:
        raise NotFound(f"no {what} with id {row_id}")
    return row_id


@router.get("/reviews", response_model=schemas.ReviewPage, tags=["reviews"], summary="Reviews, newest first")
def reviews(
    request: Request, actor: Reader, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None,
    negative: Annotated[bool | None, Query(description="true: only reviews flagged negative; false: only the others")] = None,
    suspicious: Annotated[bool | None, Query(description="true: only reviews with a triage mark (they look like spam or "
                                                         "a fake); false: only the others")] = None,
    source: str | None = None, location: str | None = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    search: Annotated[str | None, Query(max_length=200, description="words each in the title or text, any case and order")] = None,
) -> JSONResponse:
    after = paging.decode(cursor, "reviews")
    with _ctx(request).session() as session:
        rows = queries.review_rows(session, negative=negative, source=source or None, location=location or None,
                                   rating=rating, search=search, suspicious=suspicious, limit=limit + 1,
                                   after=None if after is None else paging.moment_and_id(after, "reviews"))
        return paging.page(request, rows, limit, "reviews", key=lambda row: [row["written_at"], row["id"]])


@router.get("/reviews/{review_id}", response_model=schemas.ReviewDetail, tags=["reviews"],
            summary="One review in full: why it was (not) flagged, its earlier versions, its draft")
def review(request: Request, review_id: int, actor: Reader) -> JSONResponse:
    with _ctx(request).session() as session:
        return JSONResponse(jsonable_encoder(queries.review(session, _known(review_id, "review"))))


@router.get("/drafts", response_model=schemas.DraftPage, tags=["drafts"], summary="Drafted replies, oldest waiting first")
def drafts(
    request: Request, actor: Reader, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None,
    status: Literal[tuple(s.value for s in DraftStatus)] | None = None,  # type: ignore[valid-type]
    source: str | None = None,
) -> JSONResponse:
    after = paging.decode(cursor, "drafts")
    with _ctx(request).session() as session:
        rows = queries.draft_rows(session, status=status, source=source or None, limit=limit + 1,
                                  after=None if after is None else paging.moment_and_id(after, "drafts"))
        return paging.page(request, rows, limit, "drafts", key=lambda row: [row["created_at"], row["id"]])


def _draft(request: Request, draft_id: int, *, status_code: int = 200) -> JSONResponse:
    with _ctx(request).session() as session:
        return JSONResponse(jsonable_encoder(queries.draft(session, draft_id)), status_code=status_code)


@router.get("/drafts/{draft_id}", response_model=schemas.DraftDetail, tags=["drafts"],
            summary="A draft, the review it answers and its history")
def draft(request: Request, draft_id: int, actor: Reader) -> JSONResponse:
    return _draft(request, _known(draft_id, "draft"))


@router.put("/drafts/{draft_id}", response_model=schemas.DraftDetail, tags=["drafts"], summary="Replace a draft's text",
            responses={422: {"model": schemas.GuardRefusal, "description": "saved, but the policy guard refuses the text "
                             "(saved: true), or too long to keep (saved: false)"}})
def edit(request: Request, draft_id: int, body: schemas.EditRequest, actor: Acting) -> JSONResponse:
    try:
        verdict = approvals.edit(_ctx(request), _known(draft_id, "draft"), body.text, actor=actor)
    except PolicyViolation as exc:  # too long to keep: nothing saved
        return error(422, str(exc), problems=exc.problems, saved=False)
    if verdict.ok:
        return _draft(request, draft_id)
    with _ctx(request).session() as session:
        now = queries.draft(session, draft_id)
    return error(422, f"draft {draft_id} saved, but the policy guard refuses its text: it cannot be approved as it is",
                 problems=verdict.problems, saved=True, draft=jsonable_encoder(now))


@router.post("/drafts/{draft_id}/approve", response_model=schemas.DraftDetail, tags=["drafts"],
             summary="Approve a draft for posting (after the cooling-off time)",
             responses={422: {"model": schemas.Error, "description": "the policy guard refuses the text (the refusal is "
                              "in the draft's history)"}})
def approve(request: Request, draft_id: int, actor: Acting,
            body: Annotated[schemas.ApproveRequest | None, Body()] = None) -> JSONResponse:
    approvals.approve(_ctx(request), _known(draft_id, "draft"), actor=actor, seen_text=body.seen_text if body else None)
    return _draft(request, draft_id)


@router.post("/drafts/{draft_id}/reject", response_model=schemas.DraftDetail, tags=["drafts"], summary="Reject a draft")
def reject(request: Request, draft_id: int, actor: Acting,
           body: Annotated[schemas.RejectRequest | None, Body()] = None) -> JSONResponse:
    reason = (body.reason or "").strip() if body else ""
    approvals.reject(_ctx(request), _known(draft_id, "draft"), actor=actor, reason=reason or None)
    return _draft(request, draft_id)


@router.get("/trends", response_model=schemas.TrendReport, tags=["trends"],
            summary="The marketers' numbers, as `reviewmon trends --format json`")
def trends(
    request: Request, actor: Reader,
    start: Annotated[date | None, Query(alias="from", description="first day (UTC); default: the 12th bucket back")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day, included; default: today (UTC)")] = None,
    bucket: Literal[periods.BUCKETS] = "week",  # type: ignore[valid-type]
    source: str | None = None, location: str | None = None,
) -> JSONResponse:
    ctx = _ctx(request)
    last = end or ctx.clock().date()
    first = start or periods.default_start(last, bucket)
    if first > last:
        raise ReviewmonError(f"from ({first}) is after to ({last})")
    with ctx.session() as session:
        report = reports.report(session, start=first, end=last, bucket=bucket, source=source or None,
                                location=location or None, topics=ctx.config.topics.keywords,
                                leave_out=queries.removed_sources(session, ctx.config))
    return JSONResponse(report.to_dict())


@router.get("/sources", response_model=schemas.SourcePage, tags=["sources"],
            summary="The sources and their health, as `reviewmon sources --format json`")
def sources(request: Request, actor: Reader, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> JSONResponse:
    after = paging.decode(cursor, "sources")
    if after is not None and not isinstance(after, str):
        raise paging.BadCursor("this cursor is not one of the sources list's: pass the `next` URL of a page as it is")
    ctx = _ctx(request)
    with ctx.session() as session:
        rows = [row for row in queries.source_rows(session, ctx.config) if after is None or row["name"] > after]
    return paging.page(request, rows[: limit + 1], limit, "sources", key=lambda row: row["name"])
