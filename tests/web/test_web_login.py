"""Failed logins slow down per client address and per name, without telling which names
exist and without letting a stranger lock an owner out (issue 18). Behind the configured
reverse proxy the client is the one its X-Forwarded-For names; from anyone else that
header is ignored."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from service.alerts import enqueue
from service.context import Context
from service.desk import users
from service.desk.users import LoginFailed
from service.models import Alert, LoginFailure
from tests import web_session
from tests.conftest import run_cli

PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.1"
WEB = f'\n[web]\ntrusted_proxies = ["{PROXY}"]\nlogin_attempts = 3\nlogin_attempts_per_address = 6\nlogin_delay = "0s"\n'


@pytest.fixture
def ctx(make_context) -> Context:
    context = make_context([], extra=WEB)
    users.add_user(context, "olive", "owner", PASSWORD)
    return context


def via_proxy(address: str) -> dict[str, str]:
    """What the reverse proxy adds: the address of the browser it passes the request on for."""
    return {"X-Forwarded-For": address}


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts the argon2 verifications done, by hash (the real work a login costs)."""
    done: Counter = Counter()
    verify = PasswordHasher.verify

    def counted(self, hash, password):  # noqa: A002
        done[hash] += 1
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return done


@pytest.mark.anyio
async def test_existing_and_unknown_names_get_the_same_answers_after_the_same_hash_work(ctx: Context, hashes: Counter) -> None:
    answers: dict[str, list[tuple[int, str | None]]] = {"olive": [], "nobody": []}
    async with web_session.client_for(ctx, peer=PROXY) as client:
        for name, address in (("olive", "203.0.113.7"), ("nobody", "203.0.113.8")):
            for _ in range(ctx.config.web.login_attempts + 2):  # wrong, wrong, ..., then refused unheard
                before = sum(hashes.values())
                response = await web_session.login(client, name, "wrong password!", headers=via_proxy(address))
                assert sum(hashes.values()) == before + 1  # one password check each time, throttled or not
                said = await web_session.login_said(client, response)
                answers[name].append((response.status_code, response.headers["location"], said))
    assert answers["olive"] == answers["nobody"]
    assert answers["olive"][0] == (303, "/login?next=/inbox", "wrong user name or password")
    assert "too many failed logins" in answers["olive"][-1][2]
    assert len(hashes) == 2  # olive's real hash and the one stand-in for names that do not exist


@pytest.mark.anyio
async def test_a_stranger_cannot_lock_the_owner_out_from_another_address(ctx: Context) -> None:
    async with web_session.client_for(ctx, peer=PROXY) as proxy:
        for _ in range(ctx.config.web.login_attempts):
            assert web_session.refused(await web_session.login(proxy, "olive", "guess", headers=via_proxy("203.0.113.7")))
        refused = await web_session.login(proxy, "olive", PASSWORD, headers=via_proxy("203.0.113.7"))
        assert "too many failed logins" in await web_session.login_said(proxy, refused)
        # the owner, at home, through the same proxy: in at once
        owner = await web_session.login(proxy, "olive", PASSWORD, headers=via_proxy("198.51.100.2"))
        assert owner.status_code == 303 and owner.headers["location"] == "/inbox"


@pytest.mark.anyio
async def test_many_guesses_at_once_get_no_more_hearings_than_one_after_another(ctx: Context) -> None:
    headers = via_proxy("203.0.113.7")
    async with contextlib.AsyncExitStack() as stack:  # ten browsers behind the proxy, each with its own cookie
        browsers = [await stack.enter_async_context(web_session.client_for(ctx, peer=PROXY)) for _ in range(10)]
        tokens = [await web_session.token(browser, headers=headers) for browser in browsers]

        async def guess(n: int):
            form = {"csrf_token": tokens[n], "username": "olive", "password": f"guess number {n}", "next": "/inbox"}
            return await browsers[n].post("/login", data=form, headers=headers)

        answers = await asyncio.gather(*(guess(n) for n in range(10)))
        said = Counter([await web_session.login_said(browser, answer) for browser, answer in zip(browsers, answers)])
    assert said["wrong user name or password"] == ctx.config.web.login_attempts, said


def test_an_ipv6_line_counts_as_one_address(ctx: Context) -> None:
    for n in range(ctx.config.web.login_attempts):  # a new address of the same /64 each time
        with pytest.raises(LoginFailed, match="wrong user name"):
            users.authenticate(ctx, "olive", "guess", address=f"2001:db8:1:2::{n + 1:x}")
    with pytest.raises(LoginFailed, match="too many failed logins"):
        users.authenticate(ctx, "olive", PASSWORD, address="2001:db8:1:2:ffff::1")
    assert users.authenticate(ctx, "olive", PASSWORD, address="2001:db8:1:3::1").name == "olive"


@pytest.mark.anyio
async def test_x_forwarded_for_from_anyone_but_the_proxy_is_ignored(ctx: Context) -> None:
    async with web_session.client_for(ctx, peer="192.0.2.66") as stranger:
        for n in range(ctx.config.web.login_attempts):  # a new made-up address each time: no help
            await web_session.login(stranger, "olive", "guess", headers=via_proxy(f"198.51.100.{n}"))
        refused = await web_session.login(stranger, "olive", PASSWORD, headers=via_proxy("198.51.100.99"))
        assert "too many failed logins" in await web_session.login_said(stranger, refused)
    with ctx.session() as session:
        assert set(session.exec(select(LoginFailure.address))) == {"192.0.2.66"}


@pytest.mark.anyio
async def test_one_address_trying_many_names_is_refused_whatever_the_name(ctx: Context) -> None:
    async with web_session.client_for(ctx, peer=PROXY) as proxy:
        spray = via_proxy("203.0.113.9")
        for n in range(ctx.config.web.login_attempts_per_address):
            assert web_session.refused(await web_session.login(proxy, f"user{n}", "password1", headers=spray))
        refused = await web_session.login(proxy, "olive", PASSWORD, headers=spray)
        assert "too many failed logins" in await web_session.login_said(proxy, refused)
        assert (await web_session.login(proxy, "olive", PASSWORD, headers=via_proxy("198.51.100.2"))).status_code == 303


def test_a_name_tried_from_many_addresses_slows_wrong_answers_but_never_the_right_password(make_context) -> None:
    ctx = make_context([], extra='\n[web]\nlogin_attempts = 3\nlogin_delay = "2s"\n')
    users.add_user(ctx, "olive", "owner", PASSWORD)
    delays = []
    for n in range(6):  # a botnet: each address stays under its own limits
        with pytest.raises(LoginFailed) as failed:
            users.authenticate(ctx, "olive", f"guess {n}", address=f"203.0.113.{n}")
        delays.append(failed.value.delay)
        assert str(failed.value) == "wrong user name or password"
    assert delays[:2] == [0, 0] and all(d == 2.0 for d in delays[3:])
    for n in range(6):  # the same for a name nobody has
        with pytest.raises(LoginFailed) as unknown:
            users.authenticate(ctx, "nobody", "guess", address=f"198.18.0.{n}")
    assert unknown.value.delay == 2.0
    actor = users.authenticate(ctx, "olive", PASSWORD, address="198.51.100.2")
    assert actor.name == "olive"


def test_an_admin_sees_repeated_failures_in_the_user_list_and_an_alert(make_context, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REVIEWMON_ALERTS_ADMINS", "json://localhost:1/hook")
    ctx = make_context([], extra=WEB + '\n[alerts]\nfailed_logins = 4\n[[alerts.channels]]\nname = "admins"\n'
                                      'url_env = "REVIEWMON_ALERTS_ADMINS"\nevents = ["failed_logins"]\n')
    for name in ("olive", "mia"):
        users.add_user(ctx, name, "owner", PASSWORD)
    for n in range(3):
        with pytest.raises(LoginFailed):
            users.authenticate(ctx, "olive", "guess", address=f"203.0.113.{n}")
    with ctx.session(write=True) as session:
        assert enqueue.failed_logins(session, ctx.config, ctx.clock()) == 0  # 3: not yet
    with pytest.raises(LoginFailed):
        users.authenticate(ctx, "olive", "guess", address="203.0.113.50")
    listed = {u["name"]: u for u in json.loads(run_cli(tmp_path / "config.toml", "users", "list", "--format", "json").output)}
    assert listed["olive"]["failed_logins"] == 4 and listed["olive"]["last_failed_login"]
    assert listed["mia"]["failed_logins"] == 0 and listed["mia"]["last_failed_login"] is None
    table = run_cli(tmp_path / "config.toml", "users", "list").output
    assert "failed" in table
    with ctx.session(write=True) as session:
        assert enqueue.failed_logins(session, ctx.config, ctx.clock()) == 1
        assert enqueue.failed_logins(session, ctx.config, ctx.clock() + timedelta(minutes=5)) == 0  # once, not at every tick
    with ctx.session() as session:
        [alert] = session.exec(select(Alert)).all()
    assert alert.event == "failed_logins" and "olive" in alert.title and "4 failed logins" in alert.title
    assert "203.0.113.50" in alert.body and "reviewmon users logout-everywhere olive" in alert.body
