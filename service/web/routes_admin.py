"""API tokens for those who manage users, and the API's browsable documentation for
everyone logged in: web pages, with the session and CSRF like every other page (the
API itself, service/web/api/, takes tokens only).

    GET  /admin/tokens                 the tokens: name, role, made, last used, revoked
    POST /admin/tokens                 `name`, `role`: make one; the page shows its secret once
    POST /admin/tokens/{name}/revoke   it stops working at once
    GET  /api/docs                     Swagger UI over the API's OpenAPI document (shipped, no CDN)
    GET  /api/docs/openapi.json        that document, for the page (programs: /api/v1/openapi.json)
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from service.desk import tokens
from service.desk.users import Actor
from service.errors import ReviewmonError
from service.web import api
from service.web.deps import allowed, get_ctx
from service.web.security import verify_csrf
from service.web.templating import flash, render

router = APIRouter()
manager = allowed("manage users", "manage API tokens")
reader = allowed("read", "read the API's documentation")
CSRF = [Depends(verify_csrf)]


def _tokens_page(request: Request, actor: Actor, *, status_code: int = 200, **extra: object) -> Response:
    rows = tokens.list_tokens(get_ctx(request), actor=actor)
    return render(request, "tokens.html", {"rows": rows, "roles": tokens.ROLES, **extra}, status_code=status_code)


@router.get("/admin/tokens")
def tokens_page(request: Request, actor: Actor = Depends(manager)) -> Response:
    return _tokens_page(request, actor)


@router.post("/admin/tokens", dependencies=CSRF)
def add_token(request: Request, name: str = Form(""), role: str = Form(""), actor: Actor = Depends(manager)) -> Response:
    try:
        secret = tokens.add_token(get_ctx(request), name, role, actor=actor)
    except ReviewmonError as exc:
        return _tokens_page(request, actor, status_code=400, error=str(exc), name=name, role=role)
    # shown in this answer only (never in the session cookie, which is signed, not secret)
    return _tokens_page(request, actor, status_code=201, made={"name": name.strip(), "role": role, "secret": secret})


@router.post("/admin/tokens/{name}/revoke", dependencies=CSRF)
def revoke_token(request: Request, name: str, actor: Actor = Depends(manager)) -> RedirectResponse:
    tokens.revoke_token(get_ctx(request), name, actor=actor)
    flash(request, f"Token {name} revoked: it no longer opens the API.")
    return RedirectResponse("/admin/tokens", status_code=303)


@router.get("/api/docs")
def api_docs(request: Request, actor: Actor = Depends(reader)) -> Response:
    return render(request, "api_docs.html", {"can_manage": actor.can("manage users")})


@router.get("/api/docs/openapi.json")
def api_document(request: Request, actor: Actor = Depends(reader)) -> JSONResponse:
    return JSONResponse(api.document(request.app.state.api))
