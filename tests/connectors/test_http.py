"""Connector HTTP: retries within the budget, Retry-After, auth refresh, errors, redaction."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors.auth import ApiKey, AppStoreConnectKey, GoogleServiceAccount, OAuthRefreshToken
from connectors.errors import AuthError, NotAuthorised, RateLimited, TransientError
from connectors.http import Http, make_client, retry_after

URL = "https://api.example/v1/reviews"
TOKEN_URL = "https://auth.example/token"


def run(coro_fn, **http_kwargs):
    async def main():
        async with make_client() as client:
            return await coro_fn(Http(client, **http_kwargs))

    return asyncio.run(main())


@respx.mock
def test_a_burst_of_server_errors_is_retried() -> None:
    route = respx.get(URL).mock(side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": 1})])
    assert run(lambda http: http.get_json(URL)) == {"ok": 1}
    assert route.call_count == 3


@respx.mock
def test_429_with_and_without_retry_after_is_retried() -> None:
    route = respx.get(URL).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(429), httpx.Response(200, json={}),
    ])
    run(lambda http: http.get_json(URL))
    assert route.call_count == 3


@respx.mock
def test_a_wait_longer_than_the_budget_fails_at_once_and_says_so() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}, json={"error": {"code": "ACCESS_LIMIT_REACHED"}}))
    with pytest.raises(RateLimited, match="asks to wait 3600s, more than this source's time budget") as caught:
        run(lambda http: http.get_json(URL), budget=60)
    assert route.call_count == 1 and "ACCESS_LIMIT_REACHED" in str(caught.value)


@respx.mock
def test_persistent_server_errors_give_up_with_a_transient_error() -> None:
    respx.get(URL).mock(return_value=httpx.Response(500))
    with pytest.raises(TransientError, match="server error 500"):
        run(lambda http: http.get_json(URL))


def test_a_spent_budget_stops_before_sending() -> None:
    with pytest.raises(TransientError, match="time budget of 0s ran out"):
        run(lambda http: http.get_json(URL), budget=0)


def test_retry_after_reads_seconds_dates_and_reset_headers() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    request = httpx.Request("GET", URL)

    def wait(headers):
        return retry_after(httpx.Response(429, headers=headers, request=request), now)

    assert wait({"Retry-After": "120"}) == 120
    assert wait({"Retry-After": format_datetime(now + timedelta(seconds=90), usegmt=True)}) == 90
    assert wait({"RateLimit-ResetTime": (now + timedelta(hours=2)).isoformat()}) == 7200
    assert wait({"X-RateLimit-Reset": str(int(now.timestamp()) + 30)}) == 30
    assert wait({}) is None and wait({"Retry-After": "soon"}) is None


@respx.mock
def test_401_refreshes_the_token_once_then_succeeds() -> None:
    tokens = respx.post(TOKEN_URL).mock(side_effect=[
        httpx.Response(200, json={"access_token": "tok-1", "expires_in": 3600}),
        httpx.Response(200, json={"access_token": "tok-2", "expires_in": "359999"}),
    ])
    api = respx.get(URL).mock(side_effect=lambda request: httpx.Response(
        200 if request.headers["Authorization"] == "Bearer tok-2" else 401, json={}))
    auth = OAuthRefreshToken(token_url=TOKEN_URL, client_id="cid", client_secret="csecret", refresh_token="rtok", env_names=["X_REFRESH"])
    run(lambda http: http.get_json(URL), auth=auth)
    assert tokens.call_count == 2 and api.call_count == 2
    sent = dict(x.split("=") for x in tokens.calls[0].request.content.decode().split("&"))
    assert sent == {"grant_type": "refresh_token", "refresh_token": "rtok", "client_id": "cid", "client_secret": "csecret"}


@respx.mock
def test_401_after_a_refresh_names_what_to_fix_and_leaks_no_secret() -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "sekrit-token-123"}))
    respx.get(URL).mock(return_value=httpx.Response(401, json={"error": {"status": "UNAUTHENTICATED", "message": "token sekrit-token-123 expired"}}))
    auth = OAuthRefreshToken(token_url=TOKEN_URL, client_id="cid", client_secret="csecret", refresh_token="rtok",
                             env_names=["GOOGLE_CLIENT_ID", "GOOGLE_REFRESH_TOKEN"])
    with pytest.raises(AuthError) as caught:
        run(lambda http: http.get_json(URL), auth=auth)
    message = str(caught.value)
    assert "even after refreshing the token" in message and "check GOOGLE_CLIENT_ID, GOOGLE_REFRESH_TOKEN" in message
    assert "sekrit-token-123" not in message and "[redacted]" in message


@respx.mock
def test_a_refused_refresh_token_is_an_auth_error() -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(400, json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."}))
    auth = OAuthRefreshToken(token_url=TOKEN_URL, client_id="cid", client_secret="csecret", refresh_token="rtok", env_names=["REFRESH"])
    with pytest.raises(AuthError, match=r"token endpoint refused \(400: invalid_grant: Token has been expired or revoked.\); check REFRESH"):
        run(lambda http: http.get_json(URL), auth=auth)


@respx.mock
def test_403_is_not_authorised_with_the_platforms_reason() -> None:
    respx.get(URL).mock(return_value=httpx.Response(403, json={"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "The caller does not have permission"}}))
    with pytest.raises(NotAuthorised, match="PERMISSION_DENIED: 403: The caller does not have permission"):
        run(lambda http: http.get_json(URL), auth=ApiKey("apikey", "k-123456", env_name="TP_KEY"))


@respx.mock
def test_keys_in_urls_are_redacted_from_errors() -> None:
    respx.get(url__startswith="https://api.example/v1/location").mock(return_value=httpx.Response(500))
    with pytest.raises(TransientError) as caught:
        run(lambda http: http.get_json("https://api.example/v1/location/1/reviews?key=ABCDEF123&language=en"))
    assert "ABCDEF123" not in str(caught.value) and "key=[redacted]" in str(caught.value)


@respx.mock
def test_google_service_account_signs_a_verifiable_assertion(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps({"client_email": "bot@proj.iam.example", "private_key": pem, "token_uri": TOKEN_URL}))
    token = respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "ya29.x", "expires_in": 3599}))
    api = respx.get(URL).mock(return_value=httpx.Response(200, json={}))
    run(lambda http: http.get_json(URL), auth=GoogleServiceAccount(key_file, scope="https://www.googleapis.com/auth/androidpublisher"))
    form = dict(x.split("=", 1) for x in token.calls[0].request.content.decode().split("&"))
    claims = jwt.decode(form["assertion"], private.public_key(), algorithms=["RS256"], audience=TOKEN_URL)
    assert claims["iss"] == "bot@proj.iam.example" and claims["scope"].endswith("androidpublisher")
    assert api.calls[0].request.headers["Authorization"] == "Bearer ya29.x"


def test_a_broken_service_account_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / "sa.json").write_text("{not json")
    with pytest.raises(AuthError, match="sa.json"):
        GoogleServiceAccount(tmp_path / "sa.json", scope="s")


@respx.mock
def test_app_store_connect_tokens_are_es256_with_the_key_id() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    api = respx.get(URL).mock(return_value=httpx.Response(200, json={}))
    run(lambda http: http.get_json(URL), auth=AppStoreConnectKey(key_id="ABC123", issuer_id="iss-1", private_key=pem, env_name="ASC_KEY"))
    token = api.calls[0].request.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["kid"] == "ABC123"
    claims = jwt.decode(token, private.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1")
    assert claims["iss"] == "iss-1" and claims["exp"] - claims["iat"] <= 20 * 60


def test_the_per_host_limit_holds_across_sources_and_each_source_keeps_its_own_connections() -> None:
    """Through a real socket: ten sources at once, three requests in flight to the host at
    most; each source's pages ride its own connection, closed when its poll ends. (The
    simulator is on 127.0.0.1: the requests say the configuration names it, as Http's do.)"""
    from connectors.http import PoliteTransport, lane, make_client
    from connectors.netguard import INSIDE_OK
    from tests.platform_sim import PlatformSim

    async def read(client, transport, app) -> None:
        async with lane(transport, app.app_id):
            for page in (1, 2):
                assert (await client.get(app.page_url(page), extensions={INSIDE_OK: True})).status_code == 200
            assert [key[1] for key in transport._pools].count(app.app_id) == 1  # one pool for its pages

    async def main(sim: PlatformSim) -> PoliteTransport:
        transport = PoliteTransport(per_host=3)
        async with make_client(transport=transport) as client:
            await asyncio.gather(*(read(client, transport, sim.apps[a]) for a in sim.app_ids))
            assert transport._pools == {}  # every source's connections closed with its poll
        return transport

    with PlatformSim(apps=10, pages=2, per_page=1, latency=0.05) as sim:
        asyncio.run(main(sim))
        stats = sim.stats()
    assert stats["max_in_flight"] == 3 and stats["requests"] == 20
