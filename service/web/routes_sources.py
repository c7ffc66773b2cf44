"""The sources page: each source's health (the same rows as `reviewmon sources`), how its
last run went, its past runs (`reviewmon runs`), and "Poll now" for owners, which polls
the source at once in the background of the web app (service/web/poll_now.py) and shows
the outcome here when the poll ends."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from service.desk import queries
from service.desk.users import Actor, require
from service.errors import NotFound
from service.models import RunKind
from service.web.deps import allowed, current_actor, get_ctx
from service.web.security import verify_csrf
from service.web.templating import flash, render

RUNS_SHOWN = 100

router = APIRouter()
reader = allowed("read", "read the sources' health")


@router.get("/sources")
def sources(request: Request, actor: Actor = Depends(reader)) -> Response:
    ctx = get_ctx(request)
    with ctx.session() as session:
        rows = list(queries.source_rows(session, ctx.config))
        last_runs = queries.last_runs(session)
    polls = request.app.state.poll_now
    scheduler = request.app.state.worker is not None
    return render(request, "sources.html", {
        "rows": rows, "scheduler": scheduler, "can_act": actor.can("act"), "last_runs": last_runs,
        "under_way": polls.under_way(), "notes": polls.notes_since(last_runs),
        "pollable": {source.name for source in ctx.config.sources if source.enabled},
    })


@router.get("/sources/runs")
def runs(request: Request, actor: Actor = Depends(reader), source: str | None = None, kind: str | None = None,
         failed: bool = False, limit: int = Query(RUNS_SHOWN, ge=1, le=1000)) -> Response:
    """Past polls and backfills (the same rows as `reviewmon runs`)."""
    ctx = get_ctx(request)
    filters = {"source": source or None, "kind": kind or None, "failed": failed}
    with ctx.session() as session:
        rows = list(queries.run_rows(session, **filters, limit=limit))
        names = queries.stored_source_names(session)
    return render(request, "runs.html", {"rows": rows, "sources": names, "kinds": [k.value for k in RunKind],
                                         "filters": filters, "limit": limit})


@router.post("/sources/{name}/poll-now", dependencies=[Depends(verify_csrf)])
async def poll_now(name: str, request: Request, actor: Actor = Depends(current_actor)) -> RedirectResponse:
    """Poll the source now, in the background (service/web/poll_now.py says who polls it
    and how overlapping polls are kept apart); the sources page shows how it went."""
    require(actor, "act", "ask for a poll")
    ctx = get_ctx(request)
    source = next((source for source in ctx.config.sources if source.name == name), None)
    if source is None:
        raise NotFound(f"no source named {name!r} in the config")
    if not source.enabled:
        raise NotFound(f"{name} is disabled in the config (enabled = false): nothing will poll it, not the scheduler, "
                       f"cron or this page. `reviewmon poll --source {name}` polls it once from a shell.")
    answer = await request.app.state.poll_now.start(name)
    flash(request, answer.message, answer.kind)
    return RedirectResponse("/sources", status_code=303)
