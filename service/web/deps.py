"""Request-scoped pieces for routes: the service Context, the logged-in actor, row ids."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Path, Request

from service.context import Context
from service.desk import sessions
from service.desk.users import Actor, require
from service.errors import ConfigError
from service.models import MAX_ID

SESSION_TOKEN = "sid"  # the key of the session's token in the cookie
_UNKNOWN = object()

# A row id in a path: one no database row can have (too big for the column, not a number)
# is no such page (404, service/web/__init__.py), never a database error.
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = quote(next_path, safe="/")


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


def session_actor(request: Request) -> Actor | None:
    """The user logged in by this request's session, if it is live (service/desk/sessions.py);
    looked up once per request. A session that has ended is dropped from the cookie."""
    actor = getattr(request.state, "actor", _UNKNOWN)
    if actor is _UNKNOWN:
        token = request.session.get(SESSION_TOKEN)
        actor = sessions.resume(get_ctx(request), token) if isinstance(token, str) else None
        if actor is None and token is not None:
            request.session.pop(SESSION_TOKEN, None)
        request.state.actor = actor
    return actor


def current_actor(request: Request) -> Actor:
    """The logged-in user, or a redirect to /login, and back from there to this page (for a
    form sent after the session ended: to the page the form was on, not its POST address)."""
    actor = session_actor(request)
    if actor is None:
        raise LoginRequired(request.url.path if request.method in ("GET", "HEAD") else form_page(request))
    return actor


def form_page(request: Request) -> str:
    """The page on this site a form was sent from (its Referer, which the Referrer-Policy
    sends within the site only), else the inbox."""
    try:
        sent_from = urlsplit(request.headers.get("referer", ""))
    except ValueError:
        return "/inbox"
    if sent_from.netloc != request.url.netloc or not sent_from.path.startswith("/") or sent_from.path.startswith("//"):
        return "/inbox"
    return sent_from.path + (f"?{sent_from.query}" if sent_from.query else "")


def wants_json(request: Request) -> bool:
    """A program asking for JSON (fetch() with Accept: application/json): it gets its
    answer as JSON, not a page or a redirect to one."""
    return request.headers.get("accept", "").startswith("application/json")


def allowed(permission: str, what: str):
    """Dependency: the actor, who must hold `permission` (403 otherwise)."""

    def dependency(request: Request) -> Actor:
        return require(current_actor(request), permission, what)

    return dependency


def source_type(ctx: Context, source_name: str) -> str | None:
    """The source's type (its platform's reply rules and length limit), or None for a
    source no longer configured: then the defaults apply."""
    try:
        return ctx.config.source(source_name).type
    except ConfigError:
        return None
