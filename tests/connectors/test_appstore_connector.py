"""The App Store feed connector against respx-mocked responses in the documented shape."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx

from connectors.appstore import AppStoreFeedConnector, AppStoreOptions
from connectors.errors import BadResponse, NotAuthorised, RateLimited, TransientError
from connectors.http import Http, make_client
from tests.appstore_feed import APP_ID, BASE, app_metadata_entry, entry, feed, page_path


def fetch(cursor=None, **options):
    async def run():
        async with make_client() as client:
            connector = AppStoreFeedConnector(AppStoreOptions(app_id=APP_ID, base_url=BASE, **options), http=Http(client))
            return [page async for page in connector.fetch(cursor)]

    return asyncio.run(run())


def serve_pages(router: respx.Router, pages: dict[int, object], status: dict[int, int] | None = None) -> dict[int, respx.Route]:
    routes = {}
    for number in range(1, 11):
        body = pages.get(number, feed(None))
        code = (status or {}).get(number, 200)
        routes[number] = router.get(BASE + page_path(number)).mock(
            return_value=httpx.Response(code, content=json.dumps(body).encode(), headers={"Content-Type": "text/javascript"})
        )
    return routes


@respx.mock
def test_reads_every_page_until_the_feed_ends() -> None:
    routes = serve_pages(respx.mock, {1: feed([app_metadata_entry()] + [entry(n) for n in range(50)]),
                                      2: feed([entry(n) for n in range(50, 100)]),
                                      3: feed(entry(100))})  # a single entry comes as an object
    pages = fetch()
    reviews = [r for p in pages for r in p.reviews]
    assert len(reviews) == 101 and not any(p.errors for p in pages)
    assert [routes[n].call_count for n in (1, 2, 3, 4, 5)] == [1, 1, 1, 1, 0]
    first = reviews[0]
    assert (first.external_id, first.rating, first.title, first.text, first.author) == ("10000000", 4, "Title 0", "Review number 0.", "user_0")
    assert first.updated_at.isoformat() == "2026-11-20T19:00:00+00:00"
    assert first.location == "US"
    assert pages[-1].cursor == {"latest": "2026-11-20T19:00:00+00:00"}
    assert all(p.cursor is None for p in pages[:-1])
    assert "reviewmon/" in respx.mock.calls[0].request.headers["User-Agent"]


@respx.mock
def test_stops_early_once_it_reaches_reviews_seen_last_time() -> None:
    routes = serve_pages(respx.mock, {n: feed([entry(i) for i in range((n - 1) * 50, n * 50)]) for n in range(1, 11)})
    cursor = {"latest": entry(60)["updated"]["label"]}  # newest review stored last time is on page 2
    pages = fetch(cursor)
    assert [routes[n].call_count for n in (1, 2, 3)] == [1, 1, 0]
    assert sum(len(p.reviews) for p in pages) == 100
    assert pages[-1].cursor == {"latest": "2026-11-20T19:00:00+00:00"}


@respx.mock
def test_never_asks_beyond_page_ten() -> None:
    routes = serve_pages(respx.mock, {n: feed([entry(i) for i in range((n - 1) * 50, n * 50)]) for n in range(1, 11)})
    pages = fetch()
    assert sum(len(p.reviews) for p in pages) == 500
    assert all(routes[n].call_count == 1 for n in range(1, 11))


@respx.mock
def test_empty_first_page_is_asked_again_before_it_is_believed() -> None:
    route = respx.mock.get(BASE + page_path(1)).mock(side_effect=[
        httpx.Response(200, json=feed(None)), httpx.Response(200, json=feed([entry(1)])),
    ])
    respx.mock.get(BASE + page_path(2)).mock(return_value=httpx.Response(200, json=feed(None)))
    pages = fetch()
    assert route.call_count == 2
    assert [r.external_id for p in pages for r in p.reviews] == ["10000001"]


@respx.mock
def test_a_storefront_without_the_app_is_empty_not_failed() -> None:
    respx.mock.get(BASE + page_path(1)).mock(return_value=httpx.Response(404, text="Not Found"))
    pages = fetch()
    assert [r for p in pages for r in p.reviews] == []


@respx.mock
def test_malformed_entries_are_skipped_and_the_rest_of_the_page_lands() -> None:
    broken_rating = entry(2, rating="five")
    no_id = entry(3)
    del no_id["id"]
    serve_pages(respx.mock, {1: feed([entry(1), broken_rating, no_id, "nonsense", entry(4, text="Ünïcödé ✓ مرحبا")])})
    pages = fetch()
    assert [r.external_id for p in pages for r in p.reviews] == ["10000001", "10000004"]
    errors = [e for p in pages for e in p.errors]
    assert [(e.where, e.message) for e in errors] == [
        ("page 1, entry 2", "rating must be a whole number from 1 to 5, not 'five'"),
        ("page 1, entry 3", "id is missing"),
        ("page 1, entry 4", "expected an object, got str"),
    ]
    assert errors[0].raw["im:rating"] == {"label": "five"}


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (httpx.Response(429, headers={"Retry-After": "120"}), RateLimited, "rate limited"),
        (httpx.Response(503), TransientError, "server error 503"),
        (httpx.Response(403, text="forbidden"), NotAuthorised, r"not authorised \(403\).*: the platform gave no error message$"),
        (httpx.Response(200, text="<html>oops</html>"), BadResponse, "did not answer with JSON"),
        (httpx.Response(200, json={"unexpected": True}), BadResponse, "no 'feed' object"),
    ],
)
@respx.mock
def test_failures_become_connector_errors(response: httpx.Response, error: type, message: str) -> None:
    respx.mock.get(BASE + page_path(1)).mock(return_value=response)
    with pytest.raises(error, match=message) as caught:
        fetch()
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 120


@respx.mock
def test_network_failure_is_transient() -> None:
    respx.mock.get(BASE + page_path(1)).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransientError, match="could not reach"):
        fetch()


@respx.mock
def test_entries_without_updated_are_read_not_refused() -> None:
    """Real JSON feeds have omitted `updated`: such a review has no time of its own (the
    service then knows it by when it first saw it), and the rest of the paging still works."""
    undated = entry(2)
    del undated["updated"]
    serve_pages(respx.mock, {1: feed([entry(1), undated, entry(3)])})
    pages = fetch()
    reviews = [r for p in pages for r in p.reviews]
    assert [r.external_id for r in reviews] == ["10000001", "10000002", "10000003"]
    assert not any(p.errors for p in pages)
    assert (reviews[1].created_at, reviews[1].updated_at) == (None, None)
    assert (reviews[1].title, reviews[1].text, reviews[1].rating) == ("Title 2", "Review number 2.", 4)
    assert pages[-1].cursor == {"latest": "2026-11-20T18:59:00+00:00"}  # from the dated entries


@respx.mock
def test_a_feed_with_no_dates_at_all_is_read_and_keeps_the_saved_mark() -> None:
    undated = [entry(n) for n in range(3)]
    for record in undated:
        del record["updated"]
    routes = serve_pages(respx.mock, {1: feed(undated)})
    saved = {"latest": "2026-11-20T18:00:00+00:00"}
    pages = fetch(saved)
    assert len([r for p in pages for r in p.reviews]) == 3 and routes[2].call_count == 1
    assert pages[-1].cursor == saved
