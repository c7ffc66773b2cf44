"""The sources page: each source's health (the same rows as `reviewmon sources`), its
past runs (`reviewmon runs`), and "Poll now" for owners, which makes a source due for
the scheduler or the next cron poll (`reviewmon poll --source NAME` polls it at once
from a shell)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from service.desk import queries
from service.desk.users import Actor, require
from service.errors import NotFound
from service.models import RunKind
from service.polling import claims
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
    scheduler = request.app.state.worker is not None
    return render(request, "sources.html", {"rows": rows, "scheduler": scheduler, "can_act": actor.can("act")})


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
def poll_now(name: str, request: Request, actor: Actor = Depends(current_actor)) -> RedirectResponse:
    require(actor, "act", "ask for a poll")
    ctx = get_ctx(request)
    if name not in {source.name for source in ctx.config.sources}:
        raise NotFound(f"no source named {name!r} in the config")
    claims.make_due(ctx, name)
    flash(request, f"{name} is due now: it is polled at the scheduler's next tick (or the next cron poll).")
    return RedirectResponse("/sources", status_code=303)
