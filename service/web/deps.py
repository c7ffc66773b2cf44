"""Request-scoped pieces for routes: the service Context and the logged-in actor."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from service.context import Context
from service.desk.users import Actor, actor_named, require
from service.errors import ConfigError


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = quote(next_path, safe="/")


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


def current_actor(request: Request) -> Actor:
    """The logged-in user, or a redirect to /login. Re-read on each request, so a disabled
    account or a changed role takes effect at once."""
    name = request.session.get("user")
    actor = actor_named(get_ctx(request), name) if name else None
    if actor is None:
        request.session.pop("user", None)
        raise LoginRequired(request.url.path)
    return actor


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
