"""API tokens for those who manage users, and the API's browsable documentation for
everyone logged in: web pages, with the session and CSRF like every other page (the
API itself, service/web/api/, takes tokens only).

    GET  /admin/tokens                 the tokens: name, role, made, last used, revoked
    POST /admin/tokens                 `name`, `role`: make one; the page it redirects to shows its secret once
    POST /admin/tokens/{name}/revoke   it stops working at once
    GET  /api/docs                     Swagger UI over the API's OpenAPI document (shipped, no CDN)
    GET  /api/docs/openapi.json        that document, for the page (programs: /api/v1/openapi.json)

Both forms answer with a redirect to /admin/tokens (post/redirect/get). A new token's
secret waits for that page in two halves that each say nothing alone: the secret XOR a
random pad, with the session in the database (templating.note), and the pad in the
session's cookie. The page joins them once and both are gone: a reload shows no secret,
and neither the database nor the cookie ever held it.
"""

from __future__ import annotations

import base64
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from service.desk import tokens
from service.desk.users import Actor
from service.errors import ReviewmonError
from service.web import api
from service.web.deps import allowed, get_ctx, wants_json
from service.web.security import verify_csrf
from service.web.templating import flash, note, noted, render

router = APIRouter()
manager = allowed("manage users", "manage API tokens")
reader = allowed("read", "read the API's documentation")
CSRF = [Depends(verify_csrf)]
PAGE = "/admin/tokens"
PAD = "token_pad"  # the cookie's half of a new token's secret


def _seal(secret: str) -> tuple[str, str]:
    """The secret as two halves, each random alone: (secret XOR pad, pad)."""
    plain = secret.encode("utf-8")
    pad = secrets.token_bytes(len(plain))
    return base64.b64encode(bytes(a ^ b for a, b in zip(plain, pad))).decode(), base64.b64encode(pad).decode()


def _unseal(sealed: str, pad: str) -> str | None:
    try:
        halves = base64.b64decode(sealed, validate=True), base64.b64decode(pad, validate=True)
        return bytes(a ^ b for a, b in zip(*halves)).decode("utf-8") if len(halves[0]) == len(halves[1]) else None
    except ValueError:
        return None


def _back() -> RedirectResponse:
    return RedirectResponse(PAGE, status_code=303)


@router.get("/admin/tokens")
def tokens_page(request: Request, actor: Actor = Depends(manager)) -> Response:
    rows = tokens.list_tokens(get_ctx(request), actor=actor)
    left = noted(request, PAGE)
    pad = request.session.pop(PAD, None)
    made = left.pop("made", None)
    if made is not None:
        secret = _unseal(made.pop("sealed", ""), pad) if isinstance(pad, str) else None
        made["secret"] = secret
    return render(request, "tokens.html", {"rows": rows, "roles": tokens.ROLES, "made": made, **left})


@router.post("/admin/tokens", dependencies=CSRF)
def add_token(request: Request, name: str = Form(""), role: str = Form(""), actor: Actor = Depends(manager)) -> Response:
    try:
        secret = tokens.add_token(get_ctx(request), name, role, actor=actor)
    except ReviewmonError as exc:
        note(request, PAGE, error=str(exc)[:500], name=name[:100], role=role[:20])
        return _back()
    sealed, request.session[PAD] = _seal(secret)
    note(request, PAGE, made={"name": name.strip(), "role": role, "sealed": sealed})
    return _back()


@router.post("/admin/tokens/{name}/revoke", dependencies=CSRF)
def revoke_token(request: Request, name: str, actor: Actor = Depends(manager)) -> RedirectResponse:
    try:
        tokens.revoke_token(get_ctx(request), name, actor=actor)
    except ReviewmonError as exc:
        if wants_json(request):
            raise
        note(request, PAGE, error=str(exc)[:500])
        return _back()
    flash(request, f"Token {name} revoked: it no longer opens the API.")
    return _back()


@router.get("/api/docs")
def api_docs(request: Request, actor: Actor = Depends(reader)) -> Response:
    return render(request, "api_docs.html", {"can_manage": actor.can("manage users")})


@router.get("/api/docs/openapi.json")
def api_document(request: Request, actor: Actor = Depends(reader)) -> JSONResponse:
    return JSONResponse(api.document(request.app.state.api))
