"""Logging in and out. Both forms answer with a redirect (post/redirect/get): a failed
login goes back to /login (with its `next`), which says why once; a reload of it sends
no password again. What it says (the same for every name, known or not) and the name
typed wait in the session's cookie: short, and nothing the browser did not send itself."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service.desk import sessions
from service.desk.users import NAME_LENGTH, LoginFailed, authenticate
from service.web.deps import SESSION_TOKEN, get_ctx
from service.web.security import client_address, verify_csrf
from service.web.templating import flash, render

router = APIRouter()
FAILED = "login_failed"  # in the cookie: why the last login failed, and the name typed


def _safe_next(path: str | None) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\\\" in path:
        return "/inbox"
    return path


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    failed = request.session.pop(FAILED, None)
    failed = failed if isinstance(failed, dict) else {}
    return render(request, "login.html", {"next": _safe_next(next), "error": failed.get("error"),
                                          "username": failed.get("username")})


@router.post("/login", dependencies=[Depends(verify_csrf)])
async def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/inbox")) -> Response:
    """Async so that the pause of a throttled answer (LoginFailed.delay) holds no thread;
    the password check and the database run in the thread pool."""
    ctx, address = get_ctx(request), client_address(request)
    try:
        actor = await run_in_threadpool(authenticate, ctx, username, password, address=address)
    except LoginFailed as exc:
        if exc.delay:
            await asyncio.sleep(exc.delay)
        request.session[FAILED] = {"error": str(exc), "username": username[:NAME_LENGTH]}
        return RedirectResponse("/login?next=" + quote(_safe_next(next), safe="/"), status_code=303)
    token = await run_in_threadpool(sessions.start, ctx, actor, address=address)
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    request.session[SESSION_TOKEN] = token
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> RedirectResponse:
    """Ends the session itself, not only this browser's cookie: a copy of it opens nothing."""
    token = request.session.get(SESSION_TOKEN)
    if isinstance(token, str):
        sessions.end(get_ctx(request), token)
    request.session.clear()
    flash(request, "Logged out.")
    return RedirectResponse("/login", status_code=303)
