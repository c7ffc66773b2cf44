"""Redirects into the house and credentials on the move (issue 18): a redirect may stay
on the configured host only; no request reaches an address inside the network unless
the configured URL is one, whatever a name resolves to; a credential never leaves the
host it was configured for. Real local servers on 127.0.0.1 and 127.0.0.2 (a second
loopback address stands in for a host inside the network)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from sqlmodel import select

from connectors import netguard
from connectors.auth import ApiKey
from connectors.errors import ConnectorError, Refused
from connectors.http import Http, make_client
from connectors.redirects import check
from service.models import Review, Source
from service.polling import poll as poll_module
from tests.connectors.test_hostile_bodies import read
from tests.feedserver import FeedServer
from tests.jsonld_pages import business, html, review

PAGE = html(business([review(1), review(2)])).encode("utf-8")
INTERNAL = html(business([review(99, body="The admin console's own page")])).encode("utf-8")


def poll_page(make_context, url: str):
    ctx = make_context([{"name": "site", "type": "jsonld", "url": url}])
    [result] = asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        stored = session.exec(select(Review.text)).all()
        shown = session.exec(select(Source.last_error)).one()
    return result, stored, shown


@pytest.mark.parametrize("target", [
    "http://127.0.0.2:{port}/admin?token=abc", "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/", "http://localhost:{port}/admin", "https://evil.example/x",
])
def test_a_page_redirecting_elsewhere_is_refused_naming_only_the_host_and_nothing_is_stored(make_context, target: str) -> None:
    with FeedServer() as public, FeedServer("127.0.0.2") as internal:
        internal.serve("/admin", INTERNAL)
        port = internal.httpd.server_address[1]
        public.redirect("/reviews", target.format(port=port))
        result, stored, shown = poll_page(make_context, public.base_url + "/reviews")
        assert sum(internal.hits.values()) == 0
    host = httpx.URL(target.format(port=port)).host
    assert not result.ok and stored == []
    assert shown == f"refused a redirect to another host ({host}): a redirect may only stay on the configured host"


def test_a_redirect_on_the_same_host_is_followed(make_context) -> None:
    with FeedServer() as server:
        server.redirect("/old-reviews", "/reviews", status=301)
        server.serve("/reviews", PAGE)
        result, stored, _ = poll_page(make_context, server.base_url + "/old-reviews")
    assert result.ok and sorted(stored) == ["Visit number 1 was lovely.", "Visit number 2 was lovely."]


def test_a_redirect_loop_is_cut_short() -> None:
    with FeedServer() as server:
        server.redirect("/a", "/b")
        server.redirect("/b", "/a")
        with pytest.raises(ConnectorError, match="more than 5 redirects from"):
            read(server.base_url + "/a")
        assert server.hits["/a"] + server.hits["/b"] == 6


@pytest.mark.parametrize(("start", "hop", "allowed"), [
    ("https://reviews.example/a", "https://reviews.example/b?page=2", True),
    ("https://reviews.example/a", "https://www.reviews.example/a", True),
    ("https://www.reviews.example/a", "https://reviews.example/a", True),
    ("http://reviews.example/a", "https://reviews.example/a", True),
    ("http://reviews.example:8080/a", "http://reviews.example:8080/b", True),
    ("https://reviews.example/a", "http://reviews.example/a", False),  # no step down to plain http
    ("https://reviews.example/a", "https://reviews.example:8443/a", False),
    ("http://reviews.example:8080/a", "https://reviews.example:8443/a", False),
    ("https://reviews.example/a", "https://api.reviews.example/a", False),
    ("https://reviews.example/a", "https://reviews.example.evil.example/a", False),
    ("https://reviews.example/a", "https://wwwreviews.example/a", False),
    ("https://reviews.example/a", "ftp://reviews.example/a", False),
])
def test_which_redirects_stay_on_the_configured_host(start: str, hop: str, allowed: bool) -> None:
    if allowed:
        check(httpx.URL(start), httpx.URL(hop))
    else:
        with pytest.raises(Refused):
            check(httpx.URL(start), httpx.URL(hop))


@pytest.mark.parametrize(("address", "is_inside"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("10.1.2.3", True), ("172.16.0.9", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("100.100.100.200", True), ("0.0.0.0", True), ("224.0.0.251", True),
    ("255.255.255.255", True), ("::1", True), ("::", True), ("fe80::1%eth0", True), ("fd00:ec2::254", True),
    ("::ffff:127.0.0.1", True), ("::ffff:169.254.169.254", True), ("64:ff9b::a9fe:a9fe", True), ("2002:a9fe:a9fe::1", True),
    ("93.184.216.34", False), ("8.8.8.8", False), ("2606:4700:4700::1111", False),
])
def test_inside_addresses_are_known_as_such(address: str, is_inside: bool) -> None:
    assert netguard.inside(address) is is_inside


@pytest.mark.parametrize("answers", [["127.0.0.1"], ["93.184.216.34", "127.0.0.1"], ["169.254.169.254"]])
def test_a_public_looking_name_that_resolves_inside_is_refused_before_connecting(
    make_context, monkeypatch: pytest.MonkeyPatch, answers: list[str]
) -> None:
    async def fake_dns(host: str, port: int) -> list[str]:
        return answers if host == "reviews.example" else await resolve(host, port)

    resolve = netguard.resolve
    monkeypatch.setattr(netguard, "resolve", fake_dns)
    with FeedServer() as server:
        server.serve("/reviews", PAGE)
        port = server.httpd.server_address[1]
        result, stored, shown = poll_page(make_context, f"http://reviews.example:{port}/reviews")
        assert server.hits["/reviews"] == 0
    assert not result.ok and stored == []
    assert shown.startswith("refused to connect to reviews.example: it is, or resolves to, an address inside a private network")


def test_an_inside_address_is_reached_only_when_the_configuration_names_it() -> None:
    async def get(url: str, inside: frozenset[str]) -> int:
        async with make_client() as client:
            return (await Http(client, inside_hosts=inside).request("GET", url)).status_code

    with FeedServer() as server:
        server.serve("/reviews", PAGE)
        url = server.base_url + "/reviews"
        assert asyncio.run(get(url, netguard.configured_inside_hosts([url]))) == 200
        with pytest.raises(Refused, match="refused to connect to 127.0.0.1"):
            asyncio.run(get(url, frozenset()))
        assert server.hits["/reviews"] == 1


# --- credentials -------------------------------------------------------------------------


def api_get(url: str, *, inside: frozenset[str] = frozenset(), method: str = "GET", **kwargs) -> httpx.Response:
    """A request as Trustpilot's connector makes it: its key in the `apikey` header."""
    async def run():
        async with make_client() as client:
            http = Http(client, auth=ApiKey("apikey", "tp-key-0123456789", env_name="TP_KEY"), inside_hosts=inside)
            return await http.request(method, url, **kwargs)

    return asyncio.run(run())


def test_the_api_key_never_follows_a_redirect_to_another_host() -> None:
    with FeedServer() as api, FeedServer("127.0.0.2") as other:
        other.serve_json("/v1/reviews", {"reviews": []})
        api.redirect("/v1/business-units/x/reviews", f"{other.base_url}/v1/reviews")
        inside = frozenset({"127.0.0.1", "127.0.0.2"})  # even were the other host configured too
        with pytest.raises(Refused, match=r"refused a redirect to another host \(127.0.0.2\)"):
            api_get(api.base_url + "/v1/business-units/x/reviews?page=1", inside=inside)
        assert api.headers_of("/v1/business-units/x/reviews?page=1")[0]["apikey"] == "tp-key-0123456789"
        assert other.requests == []


@respx.mock
def test_credentials_stay_on_their_host_when_a_redirect_adds_www() -> None:
    respx.get("https://api.reviews.example/v1/reviews").mock(
        return_value=httpx.Response(301, headers={"Location": "https://www.api.reviews.example/v1/reviews"}))
    www = respx.get("https://www.api.reviews.example/v1/reviews").mock(return_value=httpx.Response(200, json={}))
    api_get("https://api.reviews.example/v1/reviews", headers={"X-Business-Token": "t-secret"}, params={"key": "k-secret"})
    sent = www.calls[0].request
    assert "apikey" not in sent.headers and "x-business-token" not in sent.headers and "authorization" not in sent.headers
    assert "k-secret" not in str(sent.url)


@pytest.mark.parametrize("query", ["key=k-secret", "access_token=anything", "page=2&apikey=tp-key-0123456789"])
@respx.mock
def test_a_redirect_that_would_carry_a_credential_to_the_www_twin_is_refused(query: str) -> None:
    respx.get("https://api.reviews.example/v1/reviews").mock(
        return_value=httpx.Response(302, headers={"Location": f"https://www.api.reviews.example/v1/reviews?{query}"}))
    www = respx.get("https://www.api.reviews.example/v1/reviews").mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(Refused, match=r"^refused a redirect that would carry a credential to another host \(www.api.reviews.example\)$"):
        api_get("https://api.reviews.example/v1/reviews", params={"key": "k-secret"})
    assert not www.called


@respx.mock
def test_credentials_and_the_body_go_on_when_a_redirect_stays_on_the_host() -> None:
    respx.post("https://api.reviews.example/v1/reply").mock(
        return_value=httpx.Response(307, headers={"Location": "/v2/reply"}))
    moved = respx.post("https://api.reviews.example/v2/reply").mock(return_value=httpx.Response(201, json={}))
    api_get("https://api.reviews.example/v1/reply", method="POST", json={"text": "Thank you"})
    sent = moved.calls[0].request
    assert sent.headers["apikey"] == "tp-key-0123456789" and sent.content == b'{"text":"Thank you"}'
