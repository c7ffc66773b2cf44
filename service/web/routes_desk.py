"""The owners' reply desk: the inbox, the draft editor, follow-ups.

Thin on purpose: each route reads the request, calls the service function the CLI calls
(service/desk/queries.py, service/desk/approvals.py, service/desk/posting.py) and renders a page or
redirects (303) with a flash message. Who may do what is decided by those functions
(they raise users.Forbidden, shown as 403 to a role that may not act at all); which
buttons a page offers comes from approvals.next_steps. Every POST is CSRF-checked.

Every form answers with a redirect (post/redirect/get), refused or not, so that a reload
shows the page again and never sends the form twice. A refusal (not possible from the
draft's status, changed since it was read, the policy guard, a second pair of eyes) goes
back to the draft's page with its reasons and, for an edit, the text that was not saved:
kept with the session in the database (templating.note), shown once. A client that asks
for JSON gets the refusal as JSON instead, as before.

    GET  /inbox                        reviews that need an answer, filtered and paged
    GET  /inbox/suspicious             reviews that look like spam or a fake, whatever their rating, with where to report them
    GET  /drafts/{id}                  the editor (read-only for roles that may not act)
    POST /drafts/{id}/check            the guard's verdict on a text, as JSON (static/desk.js)
    POST /drafts/{id}/edit             save the text (form field `text`)
    POST /drafts/{id}/regenerate       the next bundled wording
    POST /drafts/{id}/approve          optional `seen_text` (refused if changed since); refused with the guard's reasons
    POST /drafts/{id}/reject           optional `reason`
    POST /drafts/{id}/post             post now through the platform's API
    POST /drafts/{id}/mark-posted      posted by hand
    POST /drafts/{id}/followup         `outcome` (contacted, resolved, no answer), `note`
    GET  /followups                    unresolved cases older than [replies] followup_after
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service.desk import approvals, posting, queries, suspicious
from service.desk.users import Actor, Forbidden
from service.errors import InvalidTransition, PolicyViolation
from service.models import MAX_ID, FollowUp
from service.web.deps import RowId, allowed, current_actor, get_ctx, source_type, wants_json
from service.web.filters import PAGE_SIZES, as_int, dates, page_links
from service.web.security import verify_csrf
from service.web.templating import flash, note, noted, render

router = APIRouter()

reader = allowed("read", "read reviews and drafts")
# Acting routes need a logged-in user (current_actor); the service functions decide
# whether that user may act (users.Forbidden, shown as 403).
CSRF = [Depends(verify_csrf)]

# --- the inbox ---------------------------------------------------------------------------


@router.get("/inbox")
def inbox(
    request: Request,
    actor: Actor = Depends(reader),
    source: str | None = None,
    location: str | None = None,
    rating: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = Query(50, ge=1, le=max(PAGE_SIZES)),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> Response:
    ctx = get_ctx(request)
    errors: list[str] = []
    start, end, shown_dates = dates(since, until, errors)
    filters = {
        "source": source or None, "location": (location or "").strip() or None, "rating": as_int(rating),
        "status": status or None,
    }
    with ctx.session() as session:
        removed = queries.removed_sources(session, ctx.config)
        rows = list(queries.inbox_rows(session, now=ctx.clock(), **filters, since=start, until=end,
                                       limit=limit + 1, offset=offset, leave_out=removed, config=ctx.config))
        suspicious_count = suspicious.suspicious_count(session, leave_out=removed)
    shown = {**{k: v for k, v in filters.items() if v is not None}, **shown_dates}
    return render(request, "inbox.html", {
        "rows": rows[:limit], "filters": shown, "errors": errors, "offset": offset, "limit": limit,
        **page_links("/inbox", shown, limit, offset, more=len(rows) > limit),
        "sources": [s.name for s in ctx.config.sources], "statuses": [s.value for s in queries.INBOX_STATUSES],
        "page_sizes": PAGE_SIZES, "filtered": bool(shown), "left_out": queries.left_out_note(removed),
        "suspicious_count": suspicious_count,
    })


@router.get("/inbox/suspicious")
def inbox_suspicious(
    request: Request,
    actor: Actor = Depends(reader),
    source: str | None = None,
    location: str | None = None,
    rating: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = Query(50, ge=1, le=max(PAGE_SIZES)),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> Response:
    """The inbox's second view: reviews with a triage mark (spam, fake), whatever their
    rating and whether or not they have a draft, with where to report each."""
    ctx = get_ctx(request)
    errors: list[str] = []
    start, end, shown_dates = dates(since, until, errors)
    filters = {"source": source or None, "location": (location or "").strip() or None, "rating": as_int(rating)}
    with ctx.session() as session:
        removed = queries.removed_sources(session, ctx.config)
        rows = list(suspicious.suspicious_rows(session, **filters, since=start, until=end, limit=limit + 1,
                                               offset=offset, leave_out=removed, config=ctx.config))
        suspicious_count = suspicious.suspicious_count(session, leave_out=removed)
    shown = {**{k: v for k, v in filters.items() if v is not None}, **shown_dates}
    return render(request, "suspicious.html", {
        "rows": rows[:limit], "filters": shown, "errors": errors, "offset": offset, "limit": limit,
        **page_links("/inbox/suspicious", shown, limit, offset, more=len(rows) > limit),
        "sources": [s.name for s in ctx.config.sources], "page_sizes": PAGE_SIZES, "filtered": bool(shown),
        "left_out": queries.left_out_note(removed), "suspicious_count": suspicious_count,
    })


# --- the draft editor -------------------------------------------------------------------


def _page(draft_id: int) -> str:
    return f"/drafts/{draft_id}"


def _editor(request: Request, actor: Actor, draft_id: int) -> Response:
    """The draft's page, with what a refused form left for it (once): `error`, its
    `problems`, and in the editor the `text` that was not saved."""
    ctx = get_ctx(request)
    with ctx.session() as session:
        draft = queries.draft(session, draft_id)
        review = queries.review(session, draft["review_id"])
    refused = noted(request, _page(draft_id))
    kind = source_type(ctx, draft["source"])
    text = refused.get("text")
    verdict = approvals.check_text(ctx, draft["text"], source_name=draft["source"], source_type=kind)
    return render(request, "draft.html", {
        "draft": draft, "review": review, "verdict": verdict, "platform": ctx.config.platform_of(draft["source"], kind),
        "steps": approvals.next_steps(draft, actor, can_reply=approvals.platform_takes_replies(kind),
                                        now=ctx.clock()), "text": draft["text"] if text is None else text,
        "outcomes": [f.value for f in FollowUp], "limit": approvals.source_limit(ctx, draft["source"], kind),
        "business": ctx.config.business.name, "error": refused.get("error"), "error_problems": refused.get("problems"),
    })


def _back(draft_id: int) -> RedirectResponse:
    return RedirectResponse(_page(draft_id), status_code=303)


REFUSALS = (InvalidTransition, PolicyViolation, Forbidden)
TEXT_KEPT = 5 * approvals.MAX_DRAFT_CHARS  # of a refused text, what comes back in the editor


def _refused(request: Request, actor: Actor, draft_id: int, exc: Exception, text: str | None = None) -> Response:
    """A refused action: back to the draft's page, which shows why, and `text` (an edit
    that was not saved) in the editor. A role that may not act at all is offered no form:
    its 403 stands, as does every refusal's JSON for a client that asks for JSON."""
    if isinstance(exc, Forbidden) and not actor.can("act"):
        raise exc
    problems = list(getattr(exc, "problems", []))
    if wants_json(request):
        if isinstance(exc, PolicyViolation):
            return JSONResponse({"error": str(exc), "problems": problems}, status_code=422)
        raise exc  # the error pages' JSON (service/web/__init__.py): 403, 409
    error = str(exc)
    if text is not None and len(text) > TEXT_KEPT:
        text, error = text[:TEXT_KEPT], f"{error} (only its first {TEXT_KEPT} characters are shown here)"
    note(request, _page(draft_id), error=error, problems=problems, **({} if text is None else {"text": text}))
    return _back(draft_id)


def _refusals_shown(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """For a draft action route (with `request`, `draft_id` and `actor`): its REFUSALS go
    back to the draft's page (_refused)."""
    if inspect.iscoroutinefunction(endpoint):
        @functools.wraps(endpoint)
        async def answer(**kwargs: Any) -> Response:
            try:
                return await endpoint(**kwargs)
            except REFUSALS as exc:  # the note is written to the database: off the event loop
                return await run_in_threadpool(_refused, kwargs["request"], kwargs["actor"], kwargs["draft_id"], exc)
    else:
        @functools.wraps(endpoint)
        def answer(**kwargs: Any) -> Response:
            try:
                return endpoint(**kwargs)
            except REFUSALS as exc:
                return _refused(kwargs["request"], kwargs["actor"], kwargs["draft_id"], exc)
    return answer


@router.get("/drafts/{draft_id}")
def draft_page(request: Request, draft_id: RowId, actor: Actor = Depends(reader)) -> Response:
    return _editor(request, actor, draft_id)


@router.post("/drafts/{draft_id}/check", dependencies=CSRF)
def check(request: Request, draft_id: RowId, text: str = Body(..., embed=True), actor: Actor = Depends(reader)) -> JSONResponse:
    ctx = get_ctx(request)
    with ctx.session() as session:
        draft = queries.draft(session, draft_id)
    verdict = approvals.check_text(ctx, text, source_name=draft["source"], source_type=source_type(ctx, draft["source"]))
    clauses = [{"start": c.start, "end": c.end, "problems": list(c.problems)} for c in verdict.clauses if c.problems]
    return JSONResponse({"ok": verdict.ok, "problems": verdict.problems, "clauses": clauses})


def _lf(text: str) -> str:
    """Browsers send a form's line breaks as CRLF; the reply keeps plain newlines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@router.post("/drafts/{draft_id}/edit", dependencies=CSRF)
def edit(request: Request, draft_id: RowId, text: str = Form(""), actor: Actor = Depends(current_actor)) -> Response:
    text = _lf(text)
    try:
        verdict = approvals.edit(get_ctx(request), draft_id, text, actor=actor)
    except REFUSALS as exc:  # too long to keep, or not editable now: nothing saved, the text comes back in the box
        return _refused(request, actor, draft_id, exc, text=text)
    if verdict.ok:
        flash(request, "Saved. The text passes the policy guard.")
    else:
        flash(request, "Saved, but the policy guard would refuse it: " + "; ".join(verdict.problems), "warn")
    return _back(draft_id)


@router.post("/drafts/{draft_id}/regenerate", dependencies=CSRF)
@_refusals_shown
def regenerate(request: Request, draft_id: RowId, actor: Actor = Depends(current_actor)) -> Response:
    verdict = approvals.regenerate(get_ctx(request), draft_id, actor=actor)
    flash(request, "Replaced with another wording." if verdict.ok
          else "Replaced with another wording, which the policy guard refuses: " + "; ".join(verdict.problems),
          "ok" if verdict.ok else "warn")
    return _back(draft_id)


@router.post("/drafts/{draft_id}/approve", dependencies=CSRF)
@_refusals_shown
def approve(request: Request, draft_id: RowId, seen_text: str | None = Form(None),
            actor: Actor = Depends(current_actor)) -> Response:
    """`seen_text`: the text on the approver's page (the editor sends it), so that a text
    changed by someone else in the meantime is not approved unread."""
    ctx = get_ctx(request)
    post_after = approvals.approve(ctx, draft_id, actor=actor, seen_text=None if seen_text is None else _lf(seen_text))
    flash(request, f"Approved: {approvals.when_it_can_go_out(post_after, ctx.clock())}.")
    return _back(draft_id)


@router.post("/drafts/{draft_id}/reject", dependencies=CSRF)
@_refusals_shown
def reject(request: Request, draft_id: RowId, reason: str = Form(""), actor: Actor = Depends(current_actor)) -> Response:
    approvals.reject(get_ctx(request), draft_id, actor=actor, reason=reason.strip() or None)
    flash(request, f"Draft {draft_id} rejected.")
    return RedirectResponse("/inbox", status_code=303)


MANUAL = "This platform takes no replies through its API here: copy the reply, post it yourself on the review's page, then press “Mark posted”."


@router.post("/drafts/{draft_id}/post", dependencies=CSRF)
@_refusals_shown
async def post_now(request: Request, draft_id: RowId, actor: Actor = Depends(current_actor)) -> Response:
    [result] = await posting.post(get_ctx(request), [draft_id], actor=actor)
    if result.outcome == "posted":
        flash(request, result.message[:1].upper() + result.message[1:] + ".")
    elif result.outcome == "manual":
        flash(request, MANUAL, "warn")
    elif result.outcome == "waiting":
        flash(request, f"Not posted yet: {result.message}.", "warn")
    else:
        flash(request, f"Not posted ({result.outcome}): {result.message}", "error")
    return _back(draft_id)


@router.post("/drafts/{draft_id}/mark-posted", dependencies=CSRF)
@_refusals_shown
def mark_posted(request: Request, draft_id: RowId, actor: Actor = Depends(current_actor)) -> Response:
    posting.mark_posted(get_ctx(request), draft_id, actor=actor)
    flash(request, "Recorded as posted by hand.")
    return _back(draft_id)


@router.post("/drafts/{draft_id}/followup", dependencies=CSRF)
@_refusals_shown
def followup(request: Request, draft_id: RowId, outcome: str = Form(""), note: str = Form(""),
             actor: Actor = Depends(current_actor)) -> Response:
    approvals.record_followup(get_ctx(request), draft_id, outcome, actor=actor, note=note.strip() or None)
    flash(request, f"Follow-up recorded: {outcome}.")
    return _back(draft_id)


# --- follow-ups -------------------------------------------------------------------------


@router.get("/followups")
def followups(request: Request, actor: Actor = Depends(reader)) -> Response:
    ctx = get_ctx(request)
    after = ctx.config.replies.followup_after
    with ctx.session() as session:
        rows = list(queries.open_followups(session, now=ctx.clock(), after=after))
    return render(request, "followups.html", {"rows": rows, "after": after})
