"""Who is calling the API, and how often: the `Authorization: Bearer TOKEN` header and a
token bucket per token, checked before anything else of a request is read.

Only a token opens /api/v1: a session cookie is neither read nor set there (the
CookieFree layer takes the cookie off the request before the web app's session layer
sees it), and the web pages never read the Authorization header. A token that is
missing, unknown or revoked gets 401 with `WWW-Authenticate: Bearer`; one over its rate
gets 429 with Retry-After (whole seconds until its next request is allowed).

The buckets live in the process: each `reviewmon serve` keeps its own, so with several
processes behind one address a token may make [api] requests_per_minute in each.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.context import Context
from service.desk import tokens

API_PREFIX = "/api/v1"
REALM = 'Bearer realm="reviewmon"'


class TokenBuckets:
    """`per_minute` requests a minute for each key, in bursts of up to `per_minute`."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens a second
        self.clock = clock
        self._buckets: dict[Any, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: Any) -> int | None:
        """None if the request may go; else the seconds to wait before the next one may."""
        with self._lock:
            now = self.clock()
            level, then = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + (now - then) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return None
            self._buckets[key] = (level, now)
            return max(1, math.ceil((1.0 - level) / self.rate))


def error(status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """Every error of the API: {"error": what went wrong, ...} (README, "API")."""
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def bearer_secret(headers: Headers) -> str | None:
    scheme, _, secret = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None


class TokenAuth:
    """Pure ASGI, so that it runs before the request's body or parameters are read: no
    token, no answer but 401 (not even 404 for a path that does not exist)."""

    def __init__(self, app: ASGIApp, ctx: Context, buckets: TokenBuckets):
        self.app, self.ctx, self.buckets = app, ctx, buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secret = bearer_secret(Headers(scope=scope))
        holder = await anyio.to_thread.run_sync(tokens.holder_of, self.ctx, secret) if secret else None
        if holder is None:
            response = error(401, "an API token is needed: send the header 'Authorization: Bearer TOKEN'"
                             if secret is None else "this token is unknown or revoked",
                             headers={"WWW-Authenticate": REALM if secret is None else REALM + ', error="invalid_token"'})
            await response(scope, receive, send)
            return
        wait = self.buckets.take(holder.id)
        if wait is not None:
            limit = round(self.buckets.capacity)
            response = error(429, f"more than {limit} requests a minute with token {holder.name}; try again in {wait} s",
                             headers={"Retry-After": str(wait)})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["actor"] = holder.actor
        await self.app(scope, receive, send)


class CookieFree:
    """The web app's outermost layer: under /api/v1 a request's cookies are dropped
    before the session layer reads them, and no response sets one."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"cookie"]}

        async def send_without_cookies(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                  if k.lower() != b"set-cookie"]}
            await send(message)

        await self.app(scope, receive, send_without_cookies)


def _is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")
