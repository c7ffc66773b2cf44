"""The JSON-LD connector against respx-served web pages in the shapes sites publish."""

from __future__ import annotations

import asyncio

import httpx
import pydantic
import pytest
import respx

from connectors.base import Page
from connectors.errors import ConnectorError, TooLarge
from connectors.http import Http, make_client
from connectors.jsonld import MAX_DEPTH, MAX_PAGE_BYTES, JsonLdConnector, JsonLdOptions
from tests.jsonld_pages import PAGE_URL, SITE, block, business, graph, html, review


def fetch(cursor=None, **options) -> list[Page]:
    async def run():
        async with make_client() as client:
            connector = JsonLdConnector(JsonLdOptions(url=options.pop("url", PAGE_URL), **options), http=Http(client))
            return [page async for page in connector.fetch(cursor)]

    return asyncio.run(run())


def serve(page: str | bytes, url: str = PAGE_URL, *, content_type: str = "text/html; charset=utf-8") -> respx.Route:
    content = page.encode("utf-8") if isinstance(page, str) else page
    return respx.get(url).mock(return_value=httpx.Response(200, content=content, headers={"Content-Type": content_type}))


def reviews_of(pages: list[Page]):
    return [r for p in pages for r in p.reviews]


def errors_of(pages: list[Page]):
    return [e for p in pages for e in p.errors]


@respx.mock
def test_reads_reviews_nested_under_a_business_and_ignores_the_aggregate_rating() -> None:
    listed = [review(1, rating=5, modified="2026-10-05T09:30:00+02:00"), review(2, rating="3"), review(3, url=SITE + "/r/3")]
    route = serve(html(business(listed)))
    pages = fetch()
    assert route.call_count == 1 and "reviewmon/" in route.calls[0].request.headers["User-Agent"]
    assert "Authorization" not in route.calls[0].request.headers
    got = reviews_of(pages)
    assert [r.rating for r in got] == [5, 3, 4] and not errors_of(pages)
    first = got[0]
    assert (first.author, first.title, first.text) == ("Guest 1", "Visit 1", "Visit number 1 was lovely.")
    assert first.created_at.isoformat() == "2026-10-02T00:00:00+00:00"  # a bare date is midnight UTC
    assert first.updated_at.isoformat() == "2026-10-05T07:30:00+00:00"
    assert got[1].updated_at is None
    assert first.url == PAGE_URL and got[2].url == SITE + "/r/3"
    assert got[2].external_id == SITE + "/r/3"
    assert first.raw["reviewRating"]["ratingValue"] == 5
    assert len(pages) == 1 and pages[0].complete and set(pages[0].cursor) == {"sha256"}


@respx.mock
def test_finds_reviews_in_graphs_lists_products_and_top_level_blocks() -> None:
    in_graph = review(1, **{"@id": "#review-1"})
    serve(html(
        graph({"@type": "Organization", "name": "Harbour Lane"}, in_graph,
              {"@type": "Product", "name": "Tasting menu", "review": {"@id": "#review-1"}}),
        [review(2, author="Ana Lima"), {"@type": "WebPage", "name": "Reviews"}],
        business(review(3, **{"@type": ["Review", "CriticReview"]}), kind="SoftwareApplication"),
        {**review(4), "@context": "https://schema.org"},
        business([review(1, **{"@id": "#review-1"})], kind="Product"),  # the same review again
    ))
    pages = fetch()
    got = reviews_of(pages)
    assert [r.title for r in got] == ["Visit 1", "Visit 2", "Visit 3", "Visit 4"] and not errors_of(pages)
    assert got[0].external_id == PAGE_URL + "#review-1"  # resolved against the page
    assert got[1].author == "Ana Lima"


@pytest.mark.parametrize(
    ("rating", "best", "worst", "stars"),
    [
        (5, None, None, 5),
        ("3", "5", "1", 3),
        ("4.5", None, None, 5),  # halves round up
        (4.4, None, None, 4),
        (8, 10, None, 4),  # 1..10: 8 is 78% of the way, nearest 4.1
        (0, 10, 0, 1),
        ("7,5", 10, 0, 4),  # a decimal comma
        (100, 100, 0, 5),
        ({"@value": "2"}, None, None, 2),
    ],
)
@respx.mock
def test_ratings_are_scaled_to_whole_stars(rating, best, worst, stars) -> None:
    serve(html(business([review(1, rating=rating, best=best, worst=worst)])))
    assert [r.rating for r in reviews_of(fetch())] == [stars]


@respx.mock
def test_rating_only_and_text_only_reviews_land() -> None:
    rating_only = review(1, rating=2)
    del rating_only["reviewBody"]
    serve(html(business([rating_only, review(2, rating=None), review(3, body="", rating=None, reviewRating={"@type": "Rating"})])))
    got = reviews_of(fetch())
    assert [(r.text, r.rating) for r in got] == [("", 2), ("Visit number 2 was lovely.", None), ("", None)]


@respx.mock
def test_a_malformed_review_is_a_row_error_and_the_rest_land() -> None:
    serve(html(business([
        review(1), review(2, rating=9), review(3, rating="five"), review(4, published="last Tuesday"),
        review(5, author={"@type": "Person", "name": {"first": "x"}}), review(6, body="Ünïcödé ✓ مرحبا 🍝"),
    ])))
    pages = fetch()
    assert [r.title for r in reviews_of(pages)] == ["Visit 1", "Visit 6"]
    assert reviews_of(pages)[1].text == "Ünïcödé ✓ مرحبا 🍝"
    errors = errors_of(pages)
    assert [(e.where, e.message) for e in errors] == [
        ("block 1, review 2", "rating 9 is outside 1 to 5"),
        ("block 1, review 3", "ratingValue 'five' is not a number"),
        ("block 1, review 4", "datePublished 'last Tuesday' is not an ISO 8601 time"),
        ("block 1, review 5", "author must be text, not dict"),
    ]
    assert errors[0].raw["reviewRating"]["ratingValue"] == 9
    assert pages[-1].complete  # the page was read whole; those reviews are unreadable, not unseen


@respx.mock
def test_malformed_json_in_one_block_spares_the_others_but_the_poll_is_incomplete() -> None:
    broken = '<script type="application/ld+json">{"@type": "Review", "reviewBody": "oops",}</script>'
    serve(html(business([review(1)]), broken, [review(2)]))
    pages = fetch(cursor={"sha256": "from-last-time"})
    assert [r.title for r in reviews_of(pages)] == ["Visit 1", "Visit 2"]
    [error] = errors_of(pages)
    assert error.where == "block 2" and error.message.startswith("not valid JSON (")
    assert '"reviewBody": "oops"' in error.raw
    assert pages[-1].complete is False and pages[-1].cursor == {}  # {}: forget the hash, re-read next time


@respx.mock
def test_synthetic_ids_are_stable_and_an_edited_body_is_a_new_review() -> None:
    listed = [review(1, **{"@id": PAGE_URL}), review(2, url=PAGE_URL), review(3, **{"@id": "_:b0"})]  # none is an id
    serve(html(business(listed)))
    first = reviews_of(fetch())
    assert all(r.external_id.startswith("jsonld:") for r in first) and len({r.external_id for r in first}) == 3

    respx.reset()
    reformatted = review(1, body="Visit number 1\n   was lovely. ")
    serve(html(graph(reformatted, review(2, url=PAGE_URL), review(3, **{"@id": "_:b7"}))))
    again = reviews_of(fetch())
    assert [r.external_id for r in again] == [r.external_id for r in first]

    respx.reset()
    serve(html(business([review(1, body="Edited: it was fine."), review(2, url=PAGE_URL), review(3)])))
    pages = fetch()
    edited = reviews_of(pages)
    assert edited[0].external_id not in {r.external_id for r in first}
    assert [r.external_id for r in edited[1:]] == [r.external_id for r in first[1:]]
    assert pages[-1].complete  # so the old version is marked removed


@respx.mock
def test_the_same_id_with_different_content_is_a_row_error() -> None:
    serve(html(business([review(1, **{"@id": "#r1"}), review(2, **{"@id": "#r1"})])))
    pages = fetch()
    assert [r.title for r in reviews_of(pages)] == ["Visit 1"]
    [error] = errors_of(pages)
    assert error.where == "block 1, review 2" and "already used by block 1, review 1" in error.message


@respx.mock
def test_an_unchanged_page_yields_nothing_and_a_changed_one_everything() -> None:
    route = serve(html(business([review(1), review(2)])))
    cursor = fetch()[-1].cursor
    assert fetch(cursor) == [] and route.call_count == 2

    respx.reset()
    serve(html(business([review(1), review(2, rating=1, modified="2026-11-01")])))
    pages = fetch(cursor)
    assert len(reviews_of(pages)) == 2 and pages[-1].complete and pages[-1].cursor != cursor


@respx.mock
def test_further_pages_are_read_in_order_and_the_last_one_closes_the_poll() -> None:
    second, third = SITE + "/reviews/2", SITE + "/reviews/3"
    routes = [serve(html(business([review(1), review(2)]))),
              serve(html(business([review(3), review(1)])), second),  # a review repeated on page 2
              serve(html(graph(review(4, rating=9))), third)]
    pages = fetch(pages=[second, third])
    assert [route.call_count for route in routes] == [1, 1, 1]
    assert [[r.title for r in p.reviews] for p in pages] == [["Visit 1", "Visit 2"], ["Visit 3"], []]
    assert [e.where for e in errors_of(pages)] == ["page 3, block 1, review 1"]
    assert [p.complete for p in pages] == [False, False, True]
    assert [p.cursor is None for p in pages] == [True, True, False]


@respx.mock
def test_max_reviews_stops_reading_and_leaves_the_poll_incomplete() -> None:
    second = SITE + "/reviews/2"
    first_route = serve(html(business([review(n) for n in range(1, 6)])))
    second_route = serve(html(business([review(6)])), second)
    pages = fetch(pages=[second], max_reviews=3)
    assert [r.title for r in reviews_of(pages)] == ["Visit 1", "Visit 2", "Visit 3"]
    assert [(e.where, e.message) for e in errors_of(pages)] == [("reviews", "stopped after 3 reviews (max_reviews); the rest are not read")]
    assert (first_route.call_count, second_route.call_count) == (1, 0)
    assert pages[-1].complete is False


@respx.mock
def test_exactly_max_reviews_is_still_a_complete_listing() -> None:
    serve(html(business([review(n) for n in range(1, 4)])))
    pages = fetch(max_reviews=3)
    assert len(reviews_of(pages)) == 3 and not errors_of(pages) and pages[-1].complete


@respx.mock
def test_html_in_review_text_is_kept_exactly_and_escaped_script_ends_stay_text() -> None:
    body = '<b>Great</b> &amp; <img src=x onerror="alert(1)"> </script><script>alert(2)</script> {{ platform }}'
    serve(html(business([review(1, body=body, url="javascript:alert(3)")])))
    [got] = reviews_of(fetch())
    assert got.text == body
    assert got.url == PAGE_URL and got.external_id.startswith("jsonld:")


@respx.mock
def test_lone_surrogates_and_nul_bytes_are_made_storable() -> None:
    raw = '<script type="application/ld+json">{"@type": "Review", "@id": "#r\\ud800", "url": "/r/\\udfff",' \
          ' "author": "A\\u0000B", "reviewBody": "bad \\ud83d half"}</script>'
    serve(html(raw))
    [got] = reviews_of(fetch())
    assert (got.external_id, got.url) == (PAGE_URL + "#r\ufffd", SITE + "/r/\ufffd")
    assert (got.author, got.text) == ("A\ufffdB", "bad \ufffd half")
    assert got.raw["reviewBody"] == "bad \ufffd half"


@respx.mock
def test_an_unescaped_script_end_breaks_only_its_own_block() -> None:
    raw = ('<script type="application/ld+json">{"@type": "Review", "reviewBody": "nice </script>'
           '<script type="application/ld+json">{"@type": "Review", "reviewBody": "injected"}</script>')
    serve(html(business([review(1)]), raw))
    pages = fetch()
    assert [error.where for error in errors_of(pages)] == ["block 2"]
    # Text after the early end is HTML again: a site that does not escape can be made to
    # show invented reviews. This is what the page says, so it is read (see the docstring).
    assert [r.text for r in reviews_of(pages)] == ["Visit number 1 was lovely.", "injected"]
    assert pages[-1].complete is False


@respx.mock
def test_deep_nesting_is_refused_per_block() -> None:
    deep: dict = review(2)
    for _ in range(MAX_DEPTH + 5):
        deep = {"@type": "Thing", "about": deep}
    very_deep = '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
    serve(html(deep, very_deep, business([review(1)]), '<script type="application/ld+json">[1' + "0" * 5000 + "]</script>"))
    pages = fetch()
    assert [r.title for r in reviews_of(pages)] == ["Visit 1"]
    assert [(e.where, e.message) for e in errors_of(pages)] == [
        ("block 1", f"nested deeper than {MAX_DEPTH} levels; not searched"),
        ("block 2", "not valid JSON-LD (nested too deeply to parse)"),
        ("block 4", errors_of(pages)[2].message),
    ]
    assert errors_of(pages)[2].message.startswith("not valid JSON (")
    assert pages[-1].complete is False


@respx.mock
def test_json_ld_markers_are_matched_loosely_and_other_scripts_ignored() -> None:
    serve(html(
        '<script type="Application/LD+JSON; charset=utf-8">' + block(review(1))[len('<script type="application/ld+json">'):],
        '<script type="application/ld+json">//<![CDATA[\n' + block(review(2))[len('<script type="application/ld+json">'):-len("</script>")] + "\n//]]></script>",
        '<script type="application/json">{"@type": "Review", "reviewBody": "not JSON-LD"}</script>',
        '<!-- <script type="application/ld+json">{"@type": "Review", "reviewBody": "commented out"}</script> -->',
        '<script type="application/ld+json">   </script>',
    ))
    pages = fetch()
    assert [r.title for r in reviews_of(pages)] == ["Visit 1", "Visit 2"] and not errors_of(pages)


@respx.mock
def test_the_page_encoding_is_honoured() -> None:
    page = html(business([review(1, body="Café crème, très bon")]), charset="iso-8859-1")
    serve(page.encode("iso-8859-1"), content_type="text/html")  # the charset is only in the page
    assert reviews_of(fetch())[0].text == "Café crème, très bon"


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"", "text/html", "the page is empty; nothing was read"),
        (b'{"@type": "Review"}', "application/json", "not an HTML page (Content-Type application/json); nothing was read"),
        (b"\x89PNG\r\n", "image/png", "not an HTML page (Content-Type image/png); nothing was read"),
    ],
)
@respx.mock
def test_an_empty_or_non_html_page_gives_nothing_and_removes_nothing(content, content_type, message) -> None:
    serve(content, content_type=content_type)
    pages = fetch()
    assert reviews_of(pages) == []
    assert [(e.where, e.message) for e in errors_of(pages)] == [("page 1", message)]
    assert pages[-1].complete is False


@respx.mock
def test_a_page_without_json_ld_is_a_complete_empty_listing() -> None:
    serve(html())
    pages = fetch(cursor={"sha256": "from-last-time"})
    assert reviews_of(pages) == [] and not errors_of(pages)
    assert pages[-1].complete  # the reviews are gone from the page: mark them removed


@respx.mock
def test_a_missing_page_fails_the_source_without_quoting_the_error_page() -> None:
    respx.get(PAGE_URL).mock(return_value=httpx.Response(404, text="Not Found: /srv/www/reviews"))
    with pytest.raises(ConnectorError, match=r"unexpected answer 404 .*: the platform gave no error message$"):
        fetch()


@respx.mock
def test_a_page_over_the_size_cap_is_refused() -> None:
    serve(html(business([review(1)])) + " " * MAX_PAGE_BYTES)
    with pytest.raises(TooLarge, match="the limit is 5 MB, so it was not read; nothing from it was stored"):
        fetch()


@respx.mock
def test_rate_limits_and_server_errors_are_retried() -> None:
    page = html(business([review(1)])).encode()
    route = respx.get(PAGE_URL).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(503),
        httpx.Response(200, content=page, headers={"Content-Type": "text/html"}),
    ])
    assert len(reviews_of(fetch())) == 1 and route.call_count == 3


def test_options_are_checked() -> None:
    assert JsonLdOptions(url=PAGE_URL).max_reviews == 1000
    for bad in ({"url": "file:///etc/passwd"}, {"url": PAGE_URL, "pages": ["ftp://x"]},
                {"url": PAGE_URL, "base_url": SITE}, {"url": PAGE_URL, "max_reviews": 0}):
        with pytest.raises(pydantic.ValidationError):
            JsonLdOptions(**bad)
    assert JsonLdConnector.capabilities.can_reply is False


@respx.mock
def test_through_the_poller_gone_and_edited_reviews_are_marked_removed(make_context, monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors
    from service.polling import poll as poll_module

    monkeypatch.setitem(connectors.available(), "jsonld", JsonLdConnector)
    ctx = make_context([{"name": "site", "type": "jsonld", "url": PAGE_URL, "pages": [], "max_reviews": 100}])
    route = serve(html(business([review(1, rating=5), review(2, rating=1, body="Cold soup."), review(3)])))
    [first] = asyncio.run(poll_module.poll(ctx))
    assert (first.ok, first.counts.inserted, first.removed) == (True, 3, 0)

    [unchanged] = asyncio.run(poll_module.poll(ctx))
    assert (unchanged.ok, unchanged.fetched, unchanged.removed, route.call_count) == (True, 0, 0, 2)

    respx.reset()
    serve(html(business([review(1, rating=5), review(2, rating=2, body="Cold soup, but a kind waiter.")])))
    [edited] = asyncio.run(poll_module.poll(ctx))
    assert (edited.ok, edited.counts.inserted, edited.counts.unchanged, edited.removed) == (True, 1, 1, 2)


@respx.mock
def test_a_reviews_headline_is_its_title() -> None:
    """schema.org Review is a CreativeWork: sites give its title as `headline` (Yoast does)."""
    with_headline = review(1)
    del with_headline["name"]
    with_headline["headline"] = "Best chowder on the coast"
    both = review(2, headline="Slow on a Saturday")  # `name` is then often the thing reviewed
    serve(html(business([with_headline, both, review(3)])))
    got = reviews_of(fetch())
    assert [r.title for r in got] == ["Best chowder on the coast", "Slow on a Saturday", "Visit 3"]


@pytest.mark.parametrize("kind", [
    "EmployerReview", "UserReview", "CriticReview", "ClaimReview", "MediaReview", "Recommendation", "ReviewNewsArticle",
    "https://schema.org/EmployerReview", "schema:EmployerReview", ["CreativeWork", "EmployerReview"],
])
@respx.mock
def test_every_schema_org_subtype_of_review_is_a_review(kind) -> None:
    serve(html(business([review(1, **{"@type": kind})], kind="Organization")))
    got = reviews_of(fetch())
    assert [(r.title, r.rating) for r in got] == [("Visit 1", 4)]


@respx.mock
def test_types_that_only_look_like_reviews_are_not_reviews() -> None:
    serve(html(business([review(1), review(2, **{"@type": "ReviewAction"}), review(3, **{"@type": "Reviewer"})])))
    assert [r.title for r in reviews_of(fetch())] == ["Visit 1"]
