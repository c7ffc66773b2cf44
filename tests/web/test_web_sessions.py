"""Sessions end when they should (issue 18): a cookie copied from a browser opens nothing
once its user logged out, changed password, was disabled or got another role, nor after
the idle time or the maximum age; and the cookie is Secure behind HTTPS."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from alembic import command
from service import db
from service.context import Context
from service.desk import users
from tests import web_session
from tests.conftest import run_cli

PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.1"


@pytest.fixture
def ctx(make_context) -> Context:
    context = make_context([], extra='\n[web]\nsession_idle = "30m"\nsession_max_age = "12h"\n')
    for name, role in (("olive", "owner"), ("mia", "marketer")):
        users.add_user(context, name, role, PASSWORD)
    return context


def copy_of(client: httpx.AsyncClient, ctx: Context) -> httpx.AsyncClient:
    """Another browser holding the same cookie (copied from the first)."""
    thief = web_session.client_for(ctx)
    for cookie in client.cookies.jar:
        thief.cookies.set(cookie.name, cookie.value)
    return thief


async def opens_inbox(client: httpx.AsyncClient) -> bool:
    response = await client.get("/inbox")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


@pytest.mark.anyio
async def test_a_cookie_copied_before_logout_opens_nothing_after_it(ctx: Context) -> None:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, csrf):
        async with copy_of(client, ctx) as thief:
            assert await opens_inbox(thief)  # a copy works while the session lives...
            assert (await client.post("/logout", data={"csrf_token": csrf})).status_code == 303
            assert not await opens_inbox(thief)  # ...and not after logout
            assert not await opens_inbox(client)


@pytest.mark.anyio
async def test_logging_out_ends_only_that_session(ctx: Context) -> None:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (laptop, csrf):
        async with web_session.logged_in(ctx, "olive", PASSWORD) as (phone, _):
            await laptop.post("/logout", data={"csrf_token": csrf})
            assert await opens_inbox(phone) and not await opens_inbox(laptop)


@pytest.mark.anyio
async def test_a_password_change_ends_every_session_of_that_user_at_once(ctx: Context) -> None:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _), copy_of(client, ctx) as thief:
        async with web_session.logged_in(ctx, "mia", PASSWORD) as (marketer, _):
            users.set_password(ctx, "olive", "a brand new passphrase")
            assert not await opens_inbox(thief) and not await opens_inbox(client)
            assert await opens_inbox(marketer)  # someone else's session goes on
        assert (await web_session.login(thief, "olive", "a brand new passphrase")).status_code == 303


@pytest.mark.anyio
async def test_disabling_a_user_or_changing_their_role_ends_their_sessions(ctx: Context) -> None:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        users.set_disabled(ctx, "olive", True)
        users.set_disabled(ctx, "olive", False)
        assert not await opens_inbox(client)  # enabled again: the old session stays ended
    async with web_session.logged_in(ctx, "mia", PASSWORD) as (client, _):
        users.set_role(ctx, "mia", "owner")
        assert not await opens_inbox(client)
        assert (await web_session.login(client, "mia", PASSWORD)).status_code == 303
        page = await client.get("/inbox")
        assert page.status_code == 200 and '<span class="role">owner</span>' in page.text


@pytest.mark.anyio
async def test_sessions_end_after_the_idle_time_and_after_the_maximum_age(ctx: Context) -> None:
    now = [datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)]
    ctx.clock = lambda: now[0]
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        now[0] += timedelta(minutes=29)
        assert await opens_inbox(client)  # within the idle time: used, so it lives on
        now[0] += timedelta(minutes=31)
        assert not await opens_inbox(client)  # 31 minutes untouched: ended
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        for _ in range(28):  # busy all day, never idle...
            now[0] += timedelta(minutes=25)
            assert await opens_inbox(client)
        now[0] += timedelta(minutes=25)  # ...but 12 hours and 5 minutes after logging in
        assert not await opens_inbox(client)


@pytest.mark.anyio
async def test_logout_everywhere_from_the_command_line(ctx: Context, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (laptop, _):
        async with web_session.logged_in(ctx, "olive", PASSWORD) as (phone, _):
            listed = run_cli(config, "users", "list", "--format", "json")
            assert {u["name"]: u["sessions"] for u in json.loads(listed.output)} == {"mia": 0, "olive": 2}
            result = run_cli(config, "users", "logout-everywhere", "olive")
            assert result.exit_code == 0 and "2 sessions of olive ended" in result.output
            assert not await opens_inbox(laptop) and not await opens_inbox(phone)
    assert run_cli(config, "users", "logout-everywhere", "nobody").exit_code == 1


def test_a_role_change_from_the_command_line(ctx: Context, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    result = run_cli(config, "users", "role", "mia", "admin")
    assert result.exit_code == 0 and "mia is now admin" in result.output
    assert users.list_users(ctx)[0]["role"] == "admin"
    assert run_cli(config, "users", "role", "mia", "king").exit_code == 2


async def session_cookie(ctx: Context, *, peer: str = "127.0.0.1", headers: dict[str, str] | None = None) -> str:
    """The session cookie a new browser is given with the login page, as the server set it."""
    async with web_session.client_for(ctx, peer=peer) as client:
        response = await client.get("/login", headers=headers)
    [cookie] = [v.lower() for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    assert "httponly" in cookie and "samesite=lax" in cookie
    return cookie


@pytest.mark.anyio
async def test_the_cookie_is_httponly_and_samesite_and_secure_only_behind_https(make_context) -> None:
    plain = make_context([], extra=f'\n[web]\ntrusted_proxies = ["{PROXY}"]\n')
    assert "secure" not in await session_cookie(plain)
    # A stranger cannot claim HTTPS: the header counts only from the configured proxy.
    assert "secure" not in await session_cookie(plain, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in await session_cookie(plain, peer=PROXY, headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in await session_cookie(plain, peer=PROXY, headers={"X-Forwarded-Proto": "http"})
    public = make_context([], extra='\n[web]\npublic_url = "https://reviews.harbourlane.example"\n')
    assert "secure" in await session_cookie(public)


def test_upgrading_keeps_the_accounts(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        command.upgrade(db.alembic_config(engine), "0007")
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO users (id, name, role, password_hash, created_at, disabled, failed_logins, locked_until)"
                              " VALUES (1, 'olive', 'owner', 'x', '2026-01-01 00:00:00', false, 3, NULL)"))
        command.upgrade(db.alembic_config(engine), "0010")
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT name, role, disabled FROM users")).one() == ("olive", "owner", False)
            assert c.execute(sa.text("SELECT count(*) FROM web_sessions")).scalar_one() == 0
        command.downgrade(db.alembic_config(engine), "0007")
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT name, failed_logins FROM users")).one() == ("olive", 0)
    finally:
        engine.dispose()
