"""The web app: owners answer reviews, marketers read trends. `create_app(ctx)` builds it.

Routes are thin: they read the request, call the same service functions the CLI uses,
and render a template. No business rule lives here (see service/desk/, service/trends/).
May import every stage but the CLI.

Safety, in one place each: sessions kept in the database (service/desk/sessions.py), their
token in a signed HttpOnly SameSite=Lax cookie, Secure behind HTTPS (Starlette's
SessionMiddleware, service/web/security.py); the client's address and scheme from a
trusted proxy's X-Forwarded-* headers only (uvicorn's ProxyHeadersMiddleware); a CSRF
token in the session checked on every POST; security headers with a Content-Security-Policy
that allows no inline script; Jinja2 autoescaping for everything shown, review text above
all.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service.context import Context
from service.desk.users import Forbidden
from service.errors import InvalidTransition, NotFound, ReviewmonError
from service.web import security
from service.web.deps import LoginRequired
from service.web.templating import STATIC_DIR, render


def create_app(ctx: Context, *, secret_key: str | None = None, scheduler: bool = False) -> FastAPI:
    """The web app; with `scheduler`, it also runs the poll scheduler (service/polling/worker.py)
    on its own event loop for as long as it serves."""
    from service.web import (
        routes_auth,
        routes_desk,
        routes_ops,
        routes_reviews,
        routes_sources,
        routes_trends,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not scheduler:
            yield
            return
        from service.polling.worker import Worker

        worker = app.state.worker = Worker(ctx)
        await worker.start()
        try:
            yield
        finally:
            await worker.stop()

    app = FastAPI(title="reviewmon", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.worker = None
    app.add_middleware(security.SecurityHeaders)
    app.add_middleware(security.SessionCookie, secret_key=secret_key or secrets.token_urlsafe(32), web=ctx.config.web)
    # Outermost, so that every later step sees the real client and scheme; from any peer
    # but the configured proxies the X-Forwarded-* headers are ignored.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(ctx.config.web.trusted_proxies))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(routes_auth.router)
    app.include_router(routes_desk.router)
    app.include_router(routes_trends.router)
    app.include_router(routes_ops.router)
    app.include_router(routes_sources.router)
    app.include_router(routes_reviews.router)
    _error_pages(app)
    return app


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)

    def page(status: int, title: str):
        async def handler(request: Request, exc: Exception) -> HTMLResponse | JSONResponse:
            if request.headers.get("accept", "").startswith("application/json"):
                return JSONResponse({"error": str(exc)}, status_code=status)
            return render(request, "error.html", {"title": title, "message": str(exc)}, status_code=status)

        return handler

    app.add_exception_handler(Forbidden, page(403, "Not allowed"))
    app.add_exception_handler(security.CSRFError, page(403, "Form expired"))
    app.add_exception_handler(NotFound, page(404, "Not found"))
    app.add_exception_handler(InvalidTransition, page(409, "Not possible now"))
    app.add_exception_handler(ReviewmonError, page(400, "Something is wrong"))
