"""Hostile answers (issue 18), from a real local server: a body is read as a stream and
abandoned as it passes its limit, counted unzipped, so a poll's memory stays flat
whatever a page sends; an error page is never quoted. The limits are made small here
(the real ones are measured by bench/poll_memory.py)."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
import zlib
from collections.abc import Iterator

import httpx
import pytest
import respx
from sqlmodel import select

from connectors import jsonld
from connectors.errors import BadResponse, ConnectorError, TooLarge
from connectors.http import Http, make_client
from connectors.jsonld import JsonLdConnector, JsonLdOptions
from connectors.netguard import configured_inside_hosts
from service.models import Review, Source, SourceStatus
from service.polling import poll as poll_module
from tests.feedserver import FeedServer, gzip_bomb
from tests.jsonld_pages import business, html, review

LIMIT = 256 * 1024
PAGE = html(business([review(1), review(2)])).encode("utf-8")


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonld, "MAX_PAGE_BYTES", LIMIT)


def read(url: str) -> list:
    """The JSON-LD connector on `url`, with the Http a source configured so would get."""
    async def run():
        async with make_client() as client:
            http = Http(client, inside_hosts=configured_inside_hosts([url]))
            return [page async for page in JsonLdConnector(JsonLdOptions(url=url), http=http).fetch(None)]

    return asyncio.run(run())


def peak_bytes(fn) -> tuple[int, object]:
    """The most memory Python held while `fn` ran (tracemalloc), and what it raised or returned."""
    tracemalloc.start()
    try:
        try:
            outcome: object = fn()
        except Exception as exc:  # noqa: BLE001 (returned for the test to look at)
            outcome = exc
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


def spaces(total: int) -> Iterator[bytes]:
    piece = b" " * 65536
    for _ in range(total // len(piece)):
        yield piece


def test_a_gzip_bomb_is_abandoned_at_the_limit_and_memory_stays_flat() -> None:
    bomb = gzip_bomb(64 << 20)  # 64 KB that unzip to 64 MB
    with FeedServer() as server:
        server.serve("/bomb", bomb, Content_Encoding="gzip")
        peak, outcome = peak_bytes(lambda: read(server.base_url + "/bomb"))
        assert server.hits["/bomb"] == 1  # abandoned, not asked for again
    assert isinstance(outcome, TooLarge)
    assert "the answer passed 256 KB (the limit), so it was abandoned there; nothing from it was stored" in str(outcome)
    assert peak < 3 << 20, f"a gzip bomb took {peak:,} bytes to refuse"


def test_a_body_without_a_length_is_counted_as_it_comes() -> None:
    with FeedServer() as server:
        server.serve("/endless", lambda: spaces(64 << 20), length=False)
        peak, outcome = peak_bytes(lambda: read(server.base_url + "/endless"))
    assert isinstance(outcome, TooLarge) and "passed 256 KB (the limit)" in str(outcome)
    assert peak < 3 << 20, f"a 64 MB body took {peak:,} bytes to refuse"


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with FeedServer() as server:
        server.serve("/big", lambda: spaces(64 << 20), length=False, Content_Length=str(64 << 20))
        with pytest.raises(TooLarge, match="the answer is 67,108,864 bytes; the limit is 256 KB, so it was not read"):
            read(server.base_url + "/big")


@pytest.mark.parametrize(("encoding", "compress"), [
    ("gzip", lambda body: zlib.compress(body, wbits=16 + zlib.MAX_WBITS)),
    ("deflate", zlib.compress),
    ("deflate", lambda body: zlib.compress(body, wbits=-zlib.MAX_WBITS)),  # raw deflate, as some servers send it
])
def test_compressed_pages_within_the_limit_are_read(encoding: str, compress) -> None:
    with FeedServer() as server:
        server.serve("/reviews", compress(PAGE), Content_Encoding=encoding)
        pages = read(server.base_url + "/reviews")
        asked = server.headers_of("/reviews")[0]
    assert [r.title for p in pages for r in p.reviews] == ["Visit 1", "Visit 2"]
    assert asked["accept-encoding"] == "gzip, deflate"  # only what can be unzipped a slice at a time


def test_an_encoding_not_asked_for_is_refused() -> None:
    with FeedServer() as server:
        server.serve("/reviews", b"\x1b\x00\x00", Content_Encoding="br")
        with pytest.raises(BadResponse, match="encoded as br; we asked only for gzip, deflate"):
            read(server.base_url + "/reviews")


def test_the_poll_reports_a_bomb_as_the_sources_error_and_stores_nothing_of_that_source(make_context) -> None:
    """Page 1 is fine, page 2 a bomb: the source fails with the limit named, nothing of it lands."""
    with FeedServer() as server:
        server.serve("/reviews", PAGE)
        server.serve("/more", gzip_bomb(8 << 20), Content_Encoding="gzip")
        ctx = make_context([{"name": "site", "type": "jsonld", "url": server.base_url + "/reviews",
                             "pages": [server.base_url + "/more"]}])
        [result] = asyncio.run(poll_module.poll(ctx))
    assert not result.ok and "passed 256 KB (the limit)" in result.error
    with ctx.session() as session:
        source = session.exec(select(Source)).one()
        assert source.status == SourceStatus.failing and "256 KB" in source.last_error
        assert session.exec(select(Review)).all() == []


ERROR_PAGE = b"<html><h1>Admin console</h1><p>db=postgres://app:hunter2@10.0.0.5/prod</p></html>"


@pytest.mark.parametrize(("body", "content_type", "shown"), [
    (ERROR_PAGE, "text/html", "the platform gave no error message"),
    (b"Not Found: /srv/www/internal/reviews", "text/plain", "the platform gave no error message"),
    (json.dumps({"error": {"code": 404, "message": "No such page\n\x07\u202e " + "x" * 5000}}).encode(), "application/json",
     "404: No such page " + "x" * 186 + "…"),  # one line, no control characters, 200 characters at most
    (json.dumps({"secret": "hunter2", "detail": "no fields we know"}).encode(), "application/json",
     "the platform gave no error message"),
])
def test_an_error_page_is_never_quoted_only_its_error_fields(make_context, body: bytes, content_type: str, shown: str) -> None:
    with FeedServer() as server:
        server.serve("/reviews", body, status=404, content_type=content_type)
        url = server.base_url + "/reviews"
        with pytest.raises(ConnectorError) as caught:
            read(url)
        assert str(caught.value) == f"unexpected answer 404 at GET {url}: {shown}"
        ctx = make_context([{"name": "site", "type": "jsonld", "url": url}])
        asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        shown_on_sources = session.exec(select(Source.last_error)).one()
    assert "hunter2" not in shown_on_sources and "Admin" not in shown_on_sources and "/srv/" not in shown_on_sources


@respx.mock
def test_a_long_secret_echoed_in_an_error_field_is_redacted_before_it_is_cut() -> None:
    secret = "eyJ" + "k" * 400  # a token longer than the part of a field that is shown
    respx.get("https://api.reviews.example/v1").mock(
        return_value=httpx.Response(403, json={"error": {"message": f"token {secret} is not allowed"}}))

    async def run():
        async with make_client() as client:
            await Http(client, secrets=[secret]).request("GET", "https://api.reviews.example/v1")

    with pytest.raises(ConnectorError) as caught:
        asyncio.run(run())
    assert str(caught.value).endswith(": token [redacted] is not allowed") and "kkkk" not in str(caught.value)
