"""Using the web app as a browser does, in-process: log in through the form, with the
CSRF token the page carries."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from service.context import Context
from service.web import create_app

SECRET_KEY = "the test server's cookie key"  # as [web] secret_key_env gives one: every client's app accepts the others' cookies
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_ERROR = re.compile(r'<p class="flash error" role="alert">(.*?)</p>', re.DOTALL)


def client_for(ctx: Context, *, peer: str = "127.0.0.1", base_url: str = "http://localhost") -> httpx.AsyncClient:
    """A browser at address `peer` (or a reverse proxy there, passing on what browsers send)."""
    transport = httpx.ASGITransport(app=create_app(ctx, secret_key=SECRET_KEY), client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def token(client: httpx.AsyncClient, path: str = "/login", headers: dict[str, str] | None = None) -> str:
    """The CSRF token of the page at `path` (the session's, once logged in)."""
    return _TOKEN.search((await client.get(path, headers=headers)).text).group(1)


async def login(client: httpx.AsyncClient, name: str, password: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Log in through the form; `headers` go with both requests (a proxy's X-Forwarded-For)."""
    return await client.post("/login", data={"csrf_token": await token(client, headers=headers), "username": name,
                                             "password": password, "next": "/inbox"}, headers=headers)


def login_error(page: httpx.Response | str) -> str | None:
    """What the login page said went wrong, if anything."""
    found = _ERROR.search(page if isinstance(page, str) else page.text)
    return found.group(1) if found else None


def refused(response: httpx.Response) -> bool:
    """Whether a login was refused: its form answers with a redirect back to the login page."""
    return response.status_code == 303 and response.headers["location"].startswith("/login?")


async def followed(client: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    """The page a form's answer redirects to (post/redirect/get), as the browser shows it next."""
    assert response.status_code == 303, response.status_code
    return await client.get(response.headers["location"])


async def login_said(client: httpx.AsyncClient, response: httpx.Response) -> str | None:
    """What the login page said after a refused login's redirect."""
    assert refused(response), (response.status_code, response.headers.get("location"))
    return login_error(await followed(client, response))


@asynccontextmanager
async def logged_in(ctx: Context, name: str, password: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client logged in as `name`, and its session's CSRF token."""
    async with client_for(ctx) as client:
        assert (await login(client, name, password)).status_code == 303
        yield client, await token(client, "/inbox")
