"""Security headers, CSRF protection, the session cookie, the client's address and the
host names the machine endpoints answer for.

CSRF: a random token lives in the (signed) session; every form carries it in the hidden
field `csrf_token` (or a fetch() call in the `X-CSRF-Token` header), and every POST is
refused unless they match. A synchronizer token like this needs no extra cookie and no
JavaScript; Starlette has no built-in, and the few add-on packages are little-kept.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.config import WebConfig
from service.errors import ReviewmonError

SESSION_COOKIE = "reviewmon_session"
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class CSRFError(ReviewmonError):
    pass


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path not in ("/healthz",) and not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def verify_csrf(request: Request) -> None:
    """FastAPI dependency for every POST route."""
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf_token")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise CSRFError("this form has expired or did not come from this site; reload the page and try again")


class SessionCookie:
    """Starlette's SessionMiddleware (a signed, HttpOnly, SameSite=Lax cookie), made Secure
    whenever the request came over HTTPS: always when [web] public_url is https://, else
    when the scheme says so (behind a trusted proxy, its X-Forwarded-Proto; see
    create_app). The cookie holds the session's token and the CSRF token; who is logged
    in, and until when, is the database's (service/desk/sessions.py)."""

    def __init__(self, app: ASGIApp, *, secret_key: str, web: WebConfig):
        options: dict[str, Any] = {"secret_key": secret_key, "session_cookie": SESSION_COOKIE, "same_site": "lax",
                                   "max_age": int(web.session_max_age.total_seconds())}
        self.secure = SessionMiddleware(app, https_only=True, **options)
        self.plain = self.secure if web.https else SessionMiddleware(app, https_only=False, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await chosen(scope, receive, send)


def client_address(request: Request) -> str:
    """The client's address: the peer's, or behind a configured trusted proxy the one its
    X-Forwarded-For names (uvicorn's ProxyHeadersMiddleware has set it by now)."""
    return request.client.host if request.client else "unknown"


def known_hosts(web: WebConfig, bind_host: str | None) -> frozenset[str]:
    """Host names /healthz and /metrics answer for: the public URL's, the address served
    on, and the machine's own loopback names (which a DNS-rebinding page cannot send)."""
    hosts = set(LOOPBACK)
    if web.public_host:
        hosts.add(web.public_host.lower())
    for host in (bind_host, web.host):
        try:
            if host and not ipaddress.ip_address(host).is_unspecified:
                hosts.add(str(ipaddress.ip_address(host)))
        except ValueError:
            hosts.add(host.lower())
    return frozenset(hosts)


def host_of(header: str) -> str | None:
    try:
        return urlsplit("//" + header).hostname
    except ValueError:
        return None


def known_host(request: Request) -> None:
    """FastAPI dependency for the machine endpoints: a page on another site that rebinds
    its own name to this server sends its own name as Host; such requests are refused."""
    if host_of(request.headers.get("host", "")) not in request.app.state.known_hosts:
        raise HTTPException(421, "not served under this host name (see [web] public_url)")
