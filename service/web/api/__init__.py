"""The JSON API for programs, at /api/v1 (README, "API"): a FastAPI app of its own,
mounted in the web app, so that it has its own errors (JSON, never a page), its own
OpenAPI document (only its routes) and no session.

A request needs `Authorization: Bearer TOKEN` (service/desk/tokens.py) and stays within
its token's rate (auth.py); then it runs with the token's role through the same service
functions as the CLI and the web pages (routes.py). Errors are {"error": "..."} with:

    400  a parameter or cursor that does not make sense     401  no token, or a revoked one
    403  the token's role may not do this                   404  no such review, draft or source
    409  not possible from the draft's status now           422  the policy guard refuses the text
    429  over [api] requests_per_minute (Retry-After)
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from service import __version__
from service.context import Context
from service.desk.users import Forbidden
from service.errors import InvalidTransition, NotFound, PolicyViolation, ReviewmonError
from service.web.api import routes
from service.web.api.auth import API_PREFIX, CookieFree, TokenAuth, TokenBuckets, error

TITLE = "reviewmon API"
DESCRIPTION = (
    "Reviews, drafts, trends and sources for programs. Every request sends `Authorization: Bearer TOKEN`; "
    "tokens are made by `reviewmon tokens add NAME --role owner|marketer` or on the web app's API tokens page, "
    "and act with their role's rights (a marketer's token reads; an owner's also edits, approves and rejects). "
    "What a token does is in the drafts' history as `token:NAME`. Lists answer `{\"items\": [...], \"next\": URL or null}`: "
    "follow `next` to the end. Errors answer `{\"error\": \"...\"}`."
)


def install(app: FastAPI, ctx: Context) -> None:
    """Mount the API on the web app at /api/v1. Call it after the web app's session layer
    is added: it adds the layer that keeps cookies off the API, which must be outside it."""
    api = create_api(ctx)
    app.state.api = api
    app.mount(API_PREFIX, api)
    app.add_middleware(CookieFree)


def create_api(ctx: Context) -> FastAPI:
    api = FastAPI(title=TITLE, version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    api.state.ctx = ctx
    api.add_middleware(TokenAuth, ctx=ctx, buckets=TokenBuckets(ctx.config.api.requests_per_minute))
    api.include_router(routes.router)
    _errors(api)

    @api.get("/openapi.json", include_in_schema=False)
    def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(document(request.app))

    return api


def _errors(api: FastAPI) -> None:
    def status(code: int):
        async def handler(request: Request, exc: Exception) -> JSONResponse:
            return error(code, str(exc))

        return handler

    @api.exception_handler(PolicyViolation)
    async def refused(request: Request, exc: PolicyViolation) -> JSONResponse:
        return error(422, str(exc), problems=exc.problems)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return error(400, "the request does not fit the API: " + "; ".join(problems), problems=problems)

    @api.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    api.add_exception_handler(Forbidden, status(403))
    api.add_exception_handler(NotFound, status(404))
    api.add_exception_handler(InvalidTransition, status(409))
    api.add_exception_handler(ReviewmonError, status(400))


def document(api: FastAPI) -> dict[str, Any]:
    """The API's OpenAPI document (made once): its routes only, with the bearer scheme,
    and the errors as this API answers them."""
    if api.openapi_schema:
        return api.openapi_schema
    doc = get_openapi(title=TITLE, version=__version__, description=DESCRIPTION, routes=api.routes,
                      servers=[{"url": API_PREFIX}])
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer", "description": "an API token (`reviewmon tokens add`)"}
    doc["security"] = [{"bearer": []}]
    models = components.setdefault("schemas", {})
    models.setdefault("Error", routes.schemas.Error.model_json_schema(ref_template="#/components/schemas/{model}"))
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    common = {"400": "a parameter or cursor that does not make sense", "401": "no token, or an unknown or revoked one",
              "429": "over the token's rate: wait Retry-After seconds"}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            if "HTTPValidationError" in str(answers.get("422", "")):
                del answers["422"]
            for code, description in common.items():
                answers.setdefault(code, {"description": description, **error_ref})
            if "{" in path:
                answers.setdefault("404", {"description": "no such review or draft", **error_ref})
            if method in ("put", "post"):
                answers.setdefault("403", {"description": "the token's role may not do this (or the review is "
                                           "escalated and the token is not an owner's)", **error_ref})
                answers.setdefault("409", {"description": "not possible from the draft's status now", **error_ref})
    for unused in ("HTTPValidationError", "ValidationError"):
        models.pop(unused, None)
    api.openapi_schema = doc
    return doc
