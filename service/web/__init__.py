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
all; error pages that say what went wrong for the user, never where the server keeps its
files (a crash's details go to the log). Programs use the JSON API at /api/v1
(service/web/api/): API tokens there, never the session, and no token opens a page here.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service.context import Context
from service.desk.users import Forbidden
from service.errors import (
    ConfigError,
    DatabaseUnavailable,
    InvalidTransition,
    MissingSecret,
    NotFound,
    NotMigrated,
    ReviewmonError,
)
from service.web import security
from service.web.deps import LoginRequired, wants_json
from service.web.poll_now import PollNow
from service.web.templating import STATIC_DIR, render, render_bare

log = logging.getLogger("reviewmon.web")

NOT_READY = "reviewmon cannot do this as it is set up now; the server's log says why."


def create_app(ctx: Context, *, secret_key: str | None = None, scheduler: bool = False,
               bind_host: str | None = None) -> FastAPI:
    """The web app; with `scheduler`, it also runs the poll scheduler (service/polling/worker.py)
    on its own event loop for as long as it serves. "Poll now" polls a source at once,
    with the scheduler or without it (service/web/poll_now.py). `bind_host`: the address it is served
    on, if not [web] host (/healthz and /metrics answer for it)."""
    from service.web import (
        api,
        routes_admin,
        routes_auth,
        routes_desk,
        routes_ops,
        routes_reviews,
        routes_sources,
        routes_trends,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        polls = app.state.poll_now
        worker = None
        if scheduler:
            from service.polling.worker import Worker

            worker = app.state.worker = polls.worker = Worker(ctx)
            await worker.start()
        try:
            yield
        finally:
            await polls.stop()  # "Poll now"'s own polls; the worker's stop waits for its own
            if worker is not None:
                await worker.stop()

    app = FastAPI(title="reviewmon", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.worker = None
    app.state.poll_now = PollNow(ctx)  # "Poll now" on the sources page (service/web/poll_now.py)
    app.state.known_hosts = security.known_hosts(ctx.config.web, bind_host)
    app.add_middleware(security.SecurityHeaders)
    app.add_middleware(security.SessionCookie, secret_key=secret_key or secrets.token_urlsafe(32), web=ctx.config.web)
    api.install(app, ctx)  # /api/v1 for programs with a token; after the session layer, which it keeps off the API
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
    app.include_router(routes_admin.router)
    _error_pages(app)
    return app


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)

    def page(status: int, title: str, message: str | None = None):
        async def handler(request: Request, exc: Exception) -> HTMLResponse | JSONResponse:
            if message is not None:  # the operator's trouble: its details (paths, URLs) go to the log only
                log.error("%s %s: %s", request.method, request.url.path, exc)
            shown = message or str(exc)
            if wants_json(request):
                return JSONResponse({"error": shown}, status_code=status)
            return render(request, "error.html", {"title": title, "message": shown}, status_code=status)

        return handler

    app.add_exception_handler(Forbidden, page(403, "Not allowed"))
    app.add_exception_handler(security.CSRFError, page(403, "Form expired"))
    app.add_exception_handler(NotFound, page(404, "Not found"))
    app.add_exception_handler(InvalidTransition, page(409, "Not possible now"))
    for operator_error in (ConfigError, MissingSecret, NotMigrated, DatabaseUnavailable):
        app.add_exception_handler(operator_error, page(503, "Not available", NOT_READY))
    app.add_exception_handler(ReviewmonError, page(400, "Something is wrong"))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> HTMLResponse | JSONResponse:
        """A path that names no row (`/drafts/abc`, an id bigger than any the database can
        hold) is no such page; other fields that do not parse keep FastAPI's 422."""
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            return await page(404, "Not found")(request, NotFound("there is no such page"))
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> HTMLResponse:
        """Anything unforeseen: the details go to the log, the page says only that it failed.
        Runs outside the other middleware: no session here, so no user and no database."""
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        response = render_bare("error.html", {"title": "Something went wrong",
                                              "message": "This page failed; the server's log says why."}, status_code=500)
        response.headers.update(security.HEADERS)
        return response
