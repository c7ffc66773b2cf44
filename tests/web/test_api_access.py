"""Who opens the JSON API, and how: API tokens made, listed and revoked from the CLI and
the admin page, 401 without a live token, no session cookie on the API and no token on
the pages, the rate limit per token, and the OpenAPI document with its docs page."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate

from service.desk import tokens
from service.desk.users import Actor, Forbidden, add_user
from service.errors import ReviewmonError
from service.web.api.auth import TokenBuckets
from tests import web_session
from tests.api_shop import PASSWORD, SETTINGS, Shop, open_shop
from tests.conftest import run_cli

API_ROUTES = [("GET", "/api/v1/reviews"), ("GET", "/api/v1/reviews/1"), ("GET", "/api/v1/drafts"),
              ("GET", "/api/v1/drafts/1"), ("PUT", "/api/v1/drafts/1"), ("POST", "/api/v1/drafts/1/approve"),
              ("POST", "/api/v1/drafts/1/reject"), ("GET", "/api/v1/trends"), ("GET", "/api/v1/sources"),
              ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/no-such-route")]


@pytest.fixture
def shop(make_context, fake_type) -> Shop:
    return open_shop(make_context)


@pytest.fixture
def slow_shop(make_context, fake_type) -> Shop:
    return open_shop(make_context, extra=SETTINGS + "\n[api]\nrequests_per_minute = 3\n")


# --- tokens from the command line ------------------------------------------------------------


@pytest.mark.anyio
async def test_a_token_made_on_the_command_line_is_shown_once_and_works_until_revoked(shop: Shop) -> None:
    config = shop.ctx.config.path
    made = run_cli(config, "tokens", "add", "helpdesk", "--role", "marketer")
    assert made.exit_code == 0
    secret = made.stdout.strip()
    assert re.fullmatch(r"rvm_[A-Za-z0-9_-]{43}", secret) and "not shown again" in made.stderr
    listed = run_cli(config, "tokens", "list", "--format", "json")
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["helpdesk"]["role"] == "marketer" and rows["helpdesk"]["last_used_at"] is None
    assert rows["old-bot"]["revoked"] is True and rows["owner-bot"]["revoked"] is False
    assert secret not in listed.stdout and tokens.token_hash(secret) not in listed.stdout  # neither the token nor its hash

    async with shop.client() as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert (await client.get("/api/v1/sources", headers=headers)).status_code == 200
        used = {row["name"]: row for row in json.loads(run_cli(config, "tokens", "list", "--format", "json").stdout)}
        assert used["helpdesk"]["last_used_at"] is not None
        table = run_cli(config, "tokens", "list").stdout
        assert "helpdesk" in table and "marketer" in table

        assert run_cli(config, "tokens", "revoke", "helpdesk").exit_code == 0
        refused = await client.get("/api/v1/sources", headers=headers)  # at once, not at the next restart
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")

    again = run_cli(config, "tokens", "add", "helpdesk", "--role", "owner")  # a revoked token's name stays its own
    assert again.exit_code == 1 and "already a token named 'helpdesk'" in again.stderr
    for args in (["add", "bad name", "--role", "owner"], ["add", "x", "--role", "admin"], ["revoke", "nobody"]):
        assert run_cli(config, "tokens", *args).exit_code != 0, args


def test_only_those_who_manage_users_handle_tokens_and_no_person_passes_for_one(shop: Shop) -> None:
    marketer = Actor("mia", "marketer")
    for attempt in (lambda: tokens.add_token(shop.ctx, "x", "owner", actor=marketer),
                    lambda: tokens.revoke_token(shop.ctx, "owner-bot", actor=marketer),
                    lambda: tokens.list_tokens(shop.ctx, actor=marketer)):
        with pytest.raises(Forbidden):
            attempt()
    with pytest.raises(ReviewmonError, match="may not start with 'token:'"):
        add_user(shop.ctx, "token:owner-bot", "owner", PASSWORD)
    assert tokens.holder_of(shop.ctx, shop.secrets["owner-bot"]).actor.name == "token:owner-bot"
    assert tokens.holder_of(shop.ctx, shop.secrets["old-bot"]) is None
    assert tokens.holder_of(shop.ctx, shop.secrets["owner-bot"][:-1] + "x") is None


# --- what opens the API, and what does not -----------------------------------------------------


@pytest.mark.anyio
async def test_no_token_a_wrong_one_or_a_revoked_one_is_401_on_every_route(shop: Shop) -> None:
    wrong = {"no header": {}, "another scheme": {"Authorization": f"Basic {shop.secrets['owner-bot']}"},
             "no token": {"Authorization": "Bearer "}, "unknown": {"Authorization": "Bearer rvm_" + "x" * 43},
             "revoked": shop.auth("old-bot")}
    async with shop.client() as client:
        for method, path in API_ROUTES:
            for why, headers in wrong.items():
                response = await client.request(method, path, headers=headers, content=b"{not json")
                assert response.status_code == 401, (method, path, why)
                assert response.headers["www-authenticate"].startswith('Bearer realm="reviewmon"')
                assert response.json()["error"] and "set-cookie" not in response.headers
        unknown = await client.get("/api/v1/sources", headers=wrong["unknown"])
        assert 'error="invalid_token"' in unknown.headers["www-authenticate"]


@pytest.mark.anyio
async def test_a_session_cookie_does_not_open_the_api_nor_a_token_the_pages(shop: Shop) -> None:
    async with web_session.logged_in(shop.ctx, "olive", PASSWORD) as (client, csrf):
        assert (await client.get("/inbox")).status_code == 200
        response = await client.get("/api/v1/reviews")
        assert response.status_code == 401 and "set-cookie" not in response.headers
        posted = await client.post(f"/api/v1/drafts/{shop.drafts['n01']}/reject", headers={"X-CSRF-Token": csrf})
        assert posted.status_code == 401 and shop.draft("n01")["status"] == "drafted"
        # with a token, the cookie is still neither read nor renewed
        both = await client.get("/api/v1/reviews", headers=shop.auth("reader-bot"))
        assert both.status_code == 200 and "set-cookie" not in both.headers
    async with shop.client() as client:
        for page in ("/inbox", "/reviews", "/trends", "/admin/tokens", "/api/docs"):
            response = await client.get(page, headers=shop.auth("owner-bot"))
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), page
        refused = await client.post(f"/drafts/{shop.drafts['n01']}/approve", headers=shop.auth("owner-bot"))
        assert refused.status_code == 403 and shop.draft("n01")["status"] == "drafted"  # no session, no CSRF token


@pytest.mark.anyio
async def test_under_api_v1_no_cookie_reaches_the_app_and_none_is_set() -> None:
    """Whatever the web app's session layer does with a cookie (read it, renew it), it never
    sees one under /api/v1, and no answer there sets one."""
    import httpx
    from starlette.responses import JSONResponse

    from service.web.api.auth import CookieFree

    async def app(scope, receive, send):
        cookies = [v.decode() for k, v in scope["headers"] if k == b"cookie"]
        response = JSONResponse({"cookies": cookies})
        response.set_cookie("reviewmon_session", "renewed")
        await response(scope, receive, send)

    transport = httpx.ASGITransport(app=CookieFree(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/api/v1/reviews", "/api/v1", "/api/v1/drafts/1/approve"):
            response = await client.get(path, headers={"Cookie": "reviewmon_session=abc"})
            assert response.json() == {"cookies": []} and "set-cookie" not in response.headers, path
        for path in ("/inbox", "/api/docs", "/api/v10/x"):
            response = await client.get(path, headers={"Cookie": "reviewmon_session=abc"})
            assert response.json() == {"cookies": ["reviewmon_session=abc"]} and "set-cookie" in response.headers, path


@pytest.mark.anyio
async def test_a_token_over_its_rate_waits_as_retry_after_says_and_others_do_not(slow_shop: Shop) -> None:
    async with slow_shop.client() as client:
        for _ in range(3):
            assert (await client.get("/api/v1/sources", headers=slow_shop.auth("reader-bot"))).status_code == 200
        limited = await client.get("/api/v1/sources", headers=slow_shop.auth("reader-bot"))
        assert limited.status_code == 429 and limited.headers["retry-after"] == "20"  # 3 a minute: one every 20 s
        assert "3 requests a minute" in limited.json()["error"]
        assert (await client.get("/api/v1/sources", headers=slow_shop.auth("owner-bot"))).status_code == 200


def test_the_bucket_refills_evenly_and_holds_a_minutes_worth() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])
    assert all(buckets.take("a") is None for _ in range(60))  # a burst of a minute's worth
    assert buckets.take("a") == 1 and buckets.take("b") is None
    now[0] += 1.0
    assert buckets.take("a") is None and buckets.take("a") == 1
    now[0] += 3600
    assert sum(buckets.take("a") is None for _ in range(100)) == 60  # never more than a minute's worth saved up


# --- the admin page -----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("manager", ["adam", "olive"])
async def test_who_manages_users_makes_lists_and_revokes_tokens_on_the_admin_page(shop: Shop, manager: str) -> None:
    async with web_session.logged_in(shop.ctx, manager, PASSWORD) as (client, csrf):
        page = await client.get("/admin/tokens")
        assert page.status_code == 200 and "owner-bot" in page.text and "revoked" in page.text
        assert 'href="/admin/tokens"' in page.text  # in the top bar for those who manage users
        assert (await client.post("/admin/tokens", data={"name": "zap", "role": "owner"})).status_code == 403  # no CSRF
        made = await client.post("/admin/tokens", data={"csrf_token": csrf, "name": "zap", "role": "marketer"})
        assert made.status_code == 303 and made.headers["location"] == "/admin/tokens"
        shown = await web_session.followed(client, made)
        secret = re.search(r'id="token-secret"[^>]*>(rvm_[^<]+)<', shown.text).group(1)
        assert tokens.holder_of(shop.ctx, secret).actor.name == "token:zap"
        later = await client.get("/admin/tokens")  # a reload
        assert "zap" in later.text and secret not in later.text and 'id="token-secret"' not in later.text  # shown once
        duplicate = await client.post("/admin/tokens", data={"csrf_token": csrf, "name": "zap", "role": "owner"})
        assert duplicate.status_code == 303 and duplicate.headers["location"] == "/admin/tokens"
        page = (await web_session.followed(client, duplicate)).text
        assert "already a token named" in page and 'value="zap"' in page  # the name typed, to change
        assert "already a token named" not in (await client.get("/admin/tokens")).text
        bad_role = await client.post("/admin/tokens", data={"csrf_token": csrf, "name": "zip", "role": "admin"})
        assert "a token&#39;s role is" in (await web_session.followed(client, bad_role)).text

        async with shop.client() as program:
            headers = {"Authorization": f"Bearer {secret}"}
            reading = await program.get("/api/v1/drafts", headers=headers)
            assert reading.status_code == 200
            acting = await program.post(f"/api/v1/drafts/{shop.drafts['n01']}/reject", headers=headers)
            assert acting.status_code == 403  # a marketer's token
            revoked = await client.post("/admin/tokens/zap/revoke", data={"csrf_token": csrf})
            assert revoked.status_code == 303
            assert "revoked" in (await client.get("/admin/tokens")).text
            assert (await program.get("/api/v1/drafts", headers=headers)).status_code == 401
        assert (await client.post("/admin/tokens/owner-bot/revoke", data={})).status_code == 403  # no CSRF
    assert tokens.holder_of(shop.ctx, shop.secrets["owner-bot"]) is not None


@pytest.mark.anyio
async def test_a_marketer_may_not_manage_tokens(shop: Shop) -> None:
    async with web_session.logged_in(shop.ctx, "mia", PASSWORD) as (client, csrf):
        inbox = await client.get("/inbox")
        assert 'href="/admin/tokens"' not in inbox.text and 'href="/api/docs"' in inbox.text
        assert (await client.get("/admin/tokens")).status_code == 403
        made = await client.post("/admin/tokens", data={"csrf_token": csrf, "name": "mine", "role": "owner"})
        assert made.status_code == 403
        assert (await client.post("/admin/tokens/owner-bot/revoke", data={"csrf_token": csrf})).status_code == 403
    assert "mine" not in {row["name"] for row in tokens.list_tokens(shop.ctx, actor="adam")}
    assert tokens.holder_of(shop.ctx, shop.secrets["owner-bot"]) is not None


# --- the OpenAPI document and the docs page --------------------------------------------------------


@pytest.mark.anyio
async def test_the_openapi_document_is_valid_and_describes_the_api_alone(shop: Shop) -> None:
    async with shop.client() as client:
        response = await client.get("/api/v1/openapi.json", headers=shop.auth("reader-bot"))
        assert response.status_code == 200
        doc = response.json()
        validate(doc)  # raises on any departure from the OpenAPI specification
        assert doc["servers"] == [{"url": "/api/v1"}]
        assert sorted(doc["paths"]) == ["/drafts", "/drafts/{draft_id}", "/drafts/{draft_id}/approve",
                                         "/drafts/{draft_id}/reject", "/reviews", "/reviews/{review_id}", "/sources", "/trends"]
        assert doc["components"]["securitySchemes"]["bearer"] == {
            "type": "http", "scheme": "bearer", "description": "an API token (`reviewmon tokens add`)"}
        assert doc["security"] == [{"bearer": []}]
        put = doc["paths"]["/drafts/{draft_id}"]["put"]
        assert {"200", "400", "401", "403", "404", "409", "422", "429"} <= set(put["responses"])
        reviews = doc["paths"]["/reviews"]["get"]
        assert {p["name"] for p in reviews["parameters"]} == {"limit", "cursor", "negative", "source", "location", "rating",
                                                              "search", "suspicious"}
        assert "422" not in reviews["responses"]  # a parameter that does not fit is a 400 here
        assert {p["name"] for p in doc["paths"]["/trends"]["get"]["parameters"]} == {"from", "to", "bucket", "source", "location"}

        assert (await client.get("/api/docs")).status_code == 303  # the docs page is for people logged in
        assert (await client.get("/api/docs/openapi.json")).status_code == 303
    async with web_session.logged_in(shop.ctx, "mia", PASSWORD) as (client, _):
        page = await client.get("/api/docs")
        assert page.status_code == 200 and "<script>" not in page.text  # no inline script: the CSP allows none
        scripts = re.findall(r'<script src="([^"]+)"', page.text)
        styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        assert all(src.startswith("/static/") for src in scripts + styles)  # shipped, never from a CDN
        for asset in scripts + styles:
            assert (await client.get(asset)).status_code == 200, asset
        assert (await client.get("/api/docs/openapi.json")).json() == doc
