"""Using the web app as a browser does, in-process: log in through the form, with the
CSRF token the page carries."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from service.context import Context
from service.web import create_app

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def client_for(ctx: Context) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://test")


async def token(client: httpx.AsyncClient, path: str = "/login") -> str:
    """The CSRF token of the page at `path` (the session's, once logged in)."""
    return _TOKEN.search((await client.get(path)).text).group(1)


async def login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await client.post("/login", data={"csrf_token": await token(client), "username": name, "password": password,
                                             "next": "/inbox"})


@asynccontextmanager
async def logged_in(ctx: Context, name: str, password: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client logged in as `name`, and its session's CSRF token."""
    async with client_for(ctx) as client:
        assert (await login(client, name, password)).status_code == 303
        yield client, await token(client, "/inbox")
