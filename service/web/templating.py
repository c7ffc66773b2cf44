"""Jinja2 for pages, with autoescaping on for every template: whatever a platform or a
reviewer sent is shown as text, never as markup. Templates ship inside the package."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from service import __version__
from service.output import web_link
from service.web.security import csrf_token

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")), autoescape=True))


def _age(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(0, int(hours * 60))} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


templates.env.filters["age"] = _age
templates.env.filters["web_link"] = web_link
templates.env.filters["when"] = _when
templates.env.globals["version"] = __version__


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
    """Render a page with what every page needs: the user, the CSRF token, flash messages."""
    from service.web.deps import session_actor

    flash = request.session.pop("flash", None)
    base = {"request": request, "user": session_actor(request), "csrf_token": csrf_token(request), "flash": flash}
    return templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status_code)


def render_bare(name: str, context: dict[str, Any], *, status_code: int) -> HTMLResponse:
    """A page without user, session or database (the page of a crash)."""
    base = {"user": None, "csrf_token": "", "flash": None}
    return HTMLResponse(templates.env.get_template(name).render({**base, **context}), status_code=status_code)


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A message for the next page shown (after a redirect). In the cookie: short, and
    nothing a user typed at length (see `note`)."""
    request.session["flash"] = {"message": message, "kind": kind}


def note(request: Request, page: str, **data: Any) -> None:
    """What the next view of `page` shows once, after a form's redirect (post/redirect/get),
    kept in the database with the session rather than in the cookie, which holds about
    4 KB and is signed, not secret: a refusal's reasons, the text that was not saved."""
    from service.desk import sessions
    from service.web.deps import SESSION_TOKEN, get_ctx

    token = request.session.get(SESSION_TOKEN)
    if isinstance(token, str):
        sessions.leave_note(get_ctx(request), token, page, data)


def noted(request: Request, page: str) -> dict[str, Any]:
    """The note left for `page`, taken: a reload of the page shows it no more."""
    from service.desk import sessions
    from service.web.deps import SESSION_TOKEN, get_ctx

    token = request.session.get(SESSION_TOKEN)
    return (sessions.take_note(get_ctx(request), token, page) or {}) if isinstance(token, str) else {}
