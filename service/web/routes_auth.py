"""Logging in and out, and the health check monitors poll."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from service.desk.users import LoginFailed, authenticate
from service.web.deps import get_ctx
from service.web.security import verify_csrf
from service.web.templating import render

router = APIRouter()


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
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/inbox")) -> Response:
    try:
        actor = authenticate(get_ctx(request), username, password)
    except LoginFailed as exc:
        return render(request, "login.html", {"next": _safe_next(next), "error": str(exc), "username": username}, status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    request.session["user"] = actor.name
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
