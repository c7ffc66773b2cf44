"""Edges of the web door (issue 18): numbers too big for the database are no such page,
error pages never show where the server keeps its files, and the machine endpoints answer
only for the host names they are served under (a DNS-rebinding page cannot read them)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.context import Context
from service.desk import users
from service.web import create_app
from tests import web_session

PASSWORD = "correct horse battery staple"
HUGE = ("99999999999999999999999", "9223372036854775808", "2147483648", "-99999999999999999999")


@pytest.fixture
def ctx(make_context) -> Context:
    context = make_context([])
    users.add_user(context, "olive", "owner", PASSWORD)
    return context


@pytest.mark.anyio
async def test_ids_too_big_for_the_database_are_404(ctx: Context) -> None:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, csrf):
        for number in HUGE:
            for path in (f"/drafts/{number}", f"/reviews/{number}"):
                response = await client.get(path)
                assert response.status_code == 404, (path, response.status_code)
                assert "Not found" in response.text
            for action in ("approve", "reject", "edit", "regenerate", "post", "mark-posted", "followup"):
                response = await client.post(f"/drafts/{number}/{action}", data={"csrf_token": csrf})
                assert response.status_code == 404, (action, number, response.status_code)
            checked = await client.post(f"/drafts/{number}/check", json={"text": "Hi"}, headers={"X-CSRF-Token": csrf})
            assert checked.status_code == 404
        assert (await client.get("/drafts/twelve")).status_code == 404


@pytest.mark.anyio
async def test_numbers_too_big_in_list_filters_are_not_a_server_error(ctx: Context) -> None:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        for path in ("/inbox", "/reviews", "/reviews.csv"):
            for query in (f"rating={HUGE[0]}", f"offset={HUGE[0]}", f"limit={HUGE[0]}"):
                response = await client.get(f"{path}?{query}")
                assert response.status_code < 500, (path, query, response.status_code)


def assert_no_server_path(text: str, *paths: Path) -> None:
    for path in paths:
        assert str(path) not in text
    assert "/tmp/" not in text and "site-packages" not in text and ".py" not in text


@pytest.mark.anyio
async def test_error_pages_never_show_a_server_path(ctx: Context, tmp_path: Path) -> None:
    app = create_app(ctx)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"cannot open {tmp_path / 'secret' / 'file.db'}")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        assert (await web_session.login(client, "olive", PASSWORD)).status_code == 303
        csrf = await web_session.token(client, "/inbox")
        crashed = await client.get("/boom")
        assert crashed.status_code == 500 and "Something went wrong" in crashed.text
        assert_no_server_path(crashed.text, tmp_path)
        # a source the config does not name: the config error names its file, the page must not
        unknown = await client.post("/sources/nowhere/poll-now", data={"csrf_token": csrf})
        assert unknown.status_code in (400, 404) and "nowhere" in unknown.text
        assert_no_server_path(unknown.text, tmp_path)
        as_json = await client.post("/sources/nowhere/poll-now", data={"csrf_token": csrf}, headers={"Accept": "application/json"})
        assert_no_server_path(as_json.text, tmp_path)


@pytest.mark.anyio
async def test_healthz_and_metrics_answer_only_for_their_own_host_names(make_context) -> None:
    local = make_context([])
    async with web_session.client_for(local, base_url="http://127.0.0.1:8000") as client:
        for path in ("/healthz", "/metrics"):
            assert (await client.get(path)).status_code == 200
            for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
                assert (await client.get(path, headers={"Host": host})).status_code == 200, host
            rebound = await client.get(path, headers={"Host": "attacker.example:8000"})
            assert rebound.status_code == 421 and "reviewmon_" not in rebound.text and "database" not in rebound.text
    public = make_context([], extra='\n[web]\npublic_url = "https://reviews.harbourlane.example/"\n')
    async with web_session.client_for(public, base_url="https://reviews.harbourlane.example") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics", headers={"Host": "REVIEWS.harbourlane.example:443"})).status_code == 200
        assert (await client.get("/healthz", headers={"Host": "harbourlane.example"})).status_code == 421
        assert (await client.get("/healthz", headers={"Host": "localhost:8000"})).status_code == 200  # a check on the machine itself
        assert (await client.get("/login", headers={"Host": "elsewhere.example"})).status_code == 200  # pages are not affected
