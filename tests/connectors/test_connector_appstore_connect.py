"""The App Store Connect connector against respx-mocked answers in the documented shape."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from connectors.appstore_connect import AppStoreConnectConnector, AppStoreConnectOptions
from connectors.base import Page, ReplyTarget
from connectors.errors import AuthError, BadResponse, RateLimited, ReplyRejected
from connectors.http import Http, make_client
from connectors.secrets import MissingCredential
from tests.appstore_connect_api import (
    APP_ID,
    BASE,
    ISSUER_ID,
    KEY_ENV,
    KEY_ID,
    REVIEWS_PATH,
    created,
    error,
    next_link,
    page,
    posted,
    private_key_pem,
    rate_header,
    response,
    review,
    review_id,
)

PEM = private_key_pem()
PUBLIC_KEY = serialization.load_pem_private_key(PEM.encode(), password=None).public_key()
OPTIONS = {"app_id": APP_ID, "key_id": KEY_ID, "issuer_id": ISSUER_ID, "private_key_env": KEY_ENV, "base_url": BASE}
RESPONSES = f"{BASE}/v1/customerReviewResponses"


@pytest.fixture(autouse=True)
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, PEM)


def run(action, **options: Any) -> Any:
    async def main():
        async with make_client() as client:
            connector = AppStoreConnectConnector(AppStoreConnectOptions(**{**OPTIONS, **options}), http=Http(client))
            return await action(connector)

    return asyncio.run(main())


def fetch(cursor: dict[str, Any] | None = None, **options: Any) -> list[Page]:
    async def read(connector):
        return [p async for p in connector.fetch(cursor)]

    return run(read, **options)


def serve(pages: dict[str | None, Any], *, headers: dict[str, str] | None = None) -> respx.Route:
    """The listing; `pages` maps the cursor parameter (None: the first page) to a body."""

    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor not in pages:
            return httpx.Response(404, json=error(404, "NOT_FOUND", "The specified resource does not exist", f"no page {cursor}"))
        return httpx.Response(200, json=pages[cursor], headers=headers or {})

    return respx.get(url__startswith=BASE + REVIEWS_PATH).mock(side_effect=answer)


def cursors_asked(route: respx.Route) -> list[str | None]:
    return [call.request.url.params.get("cursor") for call in route.calls]


def reviews_of(pages: list[Page]) -> list[Any]:
    return [r for p in pages for r in p.reviews]


def recent(**delta: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat()


# --- reading -------------------------------------------------------------------------


@respx.mock
def test_reads_every_page_until_links_next_is_absent() -> None:
    route = serve({
        None: page([review(n, replied=n == 1) for n in range(0, 3)], included=[response(1)], next_cursor="AQ.AN1"),
        "AQ.AN1": page([review(n) for n in range(3, 6)], next_cursor="AQ.AN2"),
        "AQ.AN2": page([review(6)]),
    })
    pages = fetch()
    assert cursors_asked(route) == [None, "AQ.AN1", "AQ.AN2"]
    first = route.calls[0].request.url
    assert first.path == REVIEWS_PATH
    assert dict(first.params) == {"limit": "200", "sort": "-createdDate", "include": "response"}
    assert str(route.calls[1].request.url) == next_link("AQ.AN1")  # followed verbatim
    assert route.calls[0].request.headers["Authorization"].startswith("Bearer ")

    reviews = reviews_of(pages)
    assert [r.external_id for r in reviews] == [review_id(n) for n in range(7)] and not any(p.errors for p in pages)
    one = reviews[1]
    assert (one.rating, one.title, one.text, one.author, one.location) == (4, "Title 1", "Review number 1.", "user_1", "USA")
    assert one.created_at == datetime.fromisoformat(created(1)) and one.updated_at is None
    assert one.url == f"https://apps.apple.com/app/id{APP_ID}?see-all=reviews"
    assert one.owner_reply == "Thanks for review 1." and reviews[0].owner_reply is None
    assert one.raw == {"data": review(1, replied=True), "included": [response(1)]}

    assert [p.cursor for p in pages[:-1]] == [None, None] and not any(p.complete for p in pages[:-1])
    assert pages[-1].complete is True
    assert pages[-1].cursor["latest"] == datetime.fromisoformat(created(0)).astimezone(timezone.utc).isoformat()
    assert datetime.fromisoformat(pages[-1].cursor["full_sync_at"]) > datetime.now(timezone.utc) - timedelta(minutes=1)


@respx.mock
def test_territories_and_page_size_go_into_the_first_request() -> None:
    route = serve({None: page([review(1, territory="GBR")])})
    pages = fetch(territories=["usa", "GBR"], page_size=50)
    params = route.calls[0].request.url.params
    assert params["filter[territory]"] == "USA,GBR" and params["limit"] == "50"
    assert reviews_of(pages)[0].location == "GBR"


def test_options_refuse_two_letter_territories_and_oversized_pages() -> None:
    with pytest.raises(ValidationError, match="alpha-3"):
        AppStoreConnectOptions(**OPTIONS, territories=["US"])
    with pytest.raises(ValidationError, match="page_size"):
        AppStoreConnectOptions(**OPTIONS, page_size=201)


@respx.mock
def test_an_app_without_reviews_is_one_empty_complete_page() -> None:
    serve({None: page([])})
    pages = fetch()
    assert len(pages) == 1 and pages[0].reviews == [] and pages[0].errors == []
    assert pages[0].complete is True and set(pages[0].cursor) == {"full_sync_at"}


@respx.mock
def test_a_review_without_title_or_body_keeps_its_rating() -> None:
    bare = review(1, rating=5)
    bare["attributes"].update(title=None, body=None)
    serve({None: page([bare])})
    [only] = reviews_of(fetch())
    assert (only.rating, only.title, only.text) == (5, None, "")


@respx.mock
def test_unicode_is_kept_and_normalised() -> None:
    serve({None: page([review(1, title="Cafe\u0301 ☕", body="Ünïcödé ✓ مرحبا 👍🏽 日本語")])})
    [only] = reviews_of(fetch())
    assert only.title == "Café ☕" and only.text == "Ünïcödé ✓ مرحبا 👍🏽 日本語"


@respx.mock
def test_a_response_still_pending_publication_is_the_owner_reply() -> None:
    pending = response(1, body="We are on it.", state="PENDING_PUBLISH")
    serve({None: page([review(1, replied=True), review(2, replied=True)], included=[pending])})  # 2's response is not included
    first, second = reviews_of(fetch())
    assert first.owner_reply == "We are on it." and first.raw["included"][0]["attributes"]["state"] == "PENDING_PUBLISH"
    assert second.owner_reply is None and second.raw["included"] == []


@respx.mock
def test_second_poll_stops_at_the_reviews_it_already_has() -> None:
    serve({None: page([review(n) for n in range(100, 103)], next_cursor="old"), "old": page([review(n) for n in range(103, 106)])})
    cursor = fetch()[-1].cursor
    respx.mock.routes.clear()
    route = serve({
        None: page([review(n) for n in (1, 2, 100, 105)], next_cursor="p2"),
        "p2": page([review(n) for n in range(106, 109)], next_cursor="p3"),
        "p3": page([review(n) for n in range(109, 112)]),
    })
    pages = fetch(cursor, margin="1m")  # stops once a page reaches reviews older than 99 minutes before T0
    assert cursors_asked(route) == [None]
    assert len(pages) == 1 and pages[0].complete is False
    assert pages[0].cursor == {"latest": datetime.fromisoformat(created(1)).astimezone(timezone.utc).isoformat(),
                               "full_sync_at": cursor["full_sync_at"]}


@respx.mock
def test_the_margin_reads_on_past_the_saved_newest_review() -> None:
    route = serve({None: page([review(n) for n in (1, 100, 110)], next_cursor="p2"), "p2": page([review(200)])})
    cursor = {"latest": created(100), "full_sync_at": recent(hours=1)}
    fetch(cursor)  # default margin 1h: review 110 is only 10 minutes older than the saved newest
    assert cursors_asked(route) == [None, "p2"]


@respx.mock
def test_an_edit_has_no_timestamp_so_the_periodic_full_sync_finds_it() -> None:
    edited = review(150, body="Edited: now it crashes.", rating=1)
    route = serve({None: page([review(1), review(100), review(120)], next_cursor="p2"), "p2": page([edited])})
    cursor = {"latest": created(100), "full_sync_at": recent(days=1)}
    incremental = fetch(cursor, margin="1m")
    assert cursors_asked(route) == [None] and review_id(150) not in [r.external_id for r in reviews_of(incremental)]
    assert incremental[-1].complete is False

    route.reset()
    full = fetch({**cursor, "full_sync_at": recent(days=8)}, margin="1m")
    assert cursors_asked(route) == [None, "p2"]
    found = {r.external_id: r for r in reviews_of(full)}
    assert (found[review_id(150)].text, found[review_id(150)].rating) == ("Edited: now it crashes.", 1)
    assert full[-1].complete is True
    assert datetime.fromisoformat(full[-1].cursor["full_sync_at"]) > datetime.now(timezone.utc) - timedelta(minutes=1)


@respx.mock
def test_a_malformed_review_is_a_row_error_and_the_rest_land() -> None:
    broken_rating = review(2, rating="five")
    no_date = review(3)
    del no_date["attributes"]["createdDate"]
    wrong_type = {**review(4), "type": "apps"}
    no_id = review(5)
    del no_id["id"]
    serve({None: page([review(1), broken_rating, no_date, wrong_type, no_id, "nonsense", review(7)])})
    pages = fetch()
    assert [r.external_id for r in reviews_of(pages)] == [review_id(1), review_id(7)]
    errors = pages[0].errors
    assert [(e.where, e.message) for e in errors] == [
        ("page 1, review 2", "rating must be a whole number from 1 to 5, not 'five'"),
        ("page 1, review 3", "createdDate is missing"),
        ("page 1, review 4", "expected a customerReviews resource, got 'apps'"),
        ("page 1, review 5", "id is missing"),
        ("page 1, review 6", "expected an object, got str"),
    ]
    assert errors[0].raw == broken_rating and errors[4].raw == "nonsense"
    assert pages[0].complete is True  # the listing was read to the end


@respx.mock
def test_a_repeated_next_link_stops_paging_and_is_not_complete() -> None:
    route = serve({None: page([review(1)], next_cursor="again"), "again": page([review(2)], next_cursor="again")})
    pages = fetch()
    assert cursors_asked(route) == [None, "again"]
    assert [r.external_id for r in reviews_of(pages)] == [review_id(1), review_id(2)]
    [stop] = pages[-1].errors
    assert stop.where == "paging" and "repeated page token" in stop.message
    assert pages[-1].complete is False and "full_sync_at" not in pages[-1].cursor and pages[-1].cursor["latest"]


@respx.mock
def test_max_pages_is_a_ceiling_on_every_request() -> None:
    route = serve({None: page([review(1)], next_cursor="p2"), "p2": page([review(2)], next_cursor="p3"), "p3": page([review(3)])})
    pages = fetch(max_pages=2)
    assert cursors_asked(route) == [None, "p2"]
    assert "max_pages" in pages[-1].errors[0].message and pages[-1].complete is False


@respx.mock
def test_a_next_link_to_another_host_is_refused() -> None:
    body = page([review(1)])
    body["links"]["next"] = "https://elsewhere.example/steal?cursor=x"
    serve({None: body})
    with pytest.raises(BadResponse, match="points away"):
        fetch()


@respx.mock
def test_an_exhausted_hourly_limit_stops_after_storing_the_page() -> None:
    serve({None: page([review(1)], next_cursor="p2"), "p2": page([review(2)])}, headers=rate_header(0))
    seen: list[Page] = []

    async def read(connector):
        async for p in connector.fetch(None):
            seen.append(p)

    with pytest.raises(RateLimited, match="user-hour-rem:0"):
        run(read)
    assert [r.external_id for r in reviews_of(seen)] == [review_id(1)] and seen[0].cursor is None


@respx.mock
def test_hourly_quota_left_does_not_stop_paging() -> None:
    route = serve({None: page([review(1)], next_cursor="p2"), "p2": page([review(2)])}, headers=rate_header(3121))
    fetch()
    assert route.call_count == 2


@pytest.mark.parametrize("first_two", [
    [httpx.Response(429, headers={"Retry-After": "1"}, json=error(429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.", "slow down")),
     httpx.Response(429, json=error(429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.", "slow down"))],
    [httpx.Response(500), httpx.Response(503, text="Service Unavailable")],
], ids=["429-with-and-without-retry-after", "5xx-burst"])
@respx.mock
def test_rate_limits_and_server_errors_are_retried_then_succeed(first_two: list[httpx.Response]) -> None:
    route = respx.get(url__startswith=BASE + REVIEWS_PATH).mock(side_effect=[*first_two, httpx.Response(200, json=page([review(1)]))])
    pages = fetch()
    assert route.call_count == 3 and [r.external_id for r in reviews_of(pages)] == [review_id(1)]


@pytest.mark.parametrize(("answer", "message"), [
    (httpx.Response(200, text="<html>maintenance</html>"), "did not answer with JSON"),
    (httpx.Response(200, json={"data": {"not": "a list"}}), "no 'data' list"),
])
@respx.mock
def test_an_unreadable_page_is_a_bad_response(answer: httpx.Response, message: str) -> None:
    respx.get(url__startswith=BASE + REVIEWS_PATH).mock(return_value=answer)
    with pytest.raises(BadResponse, match=message):
        fetch()


# --- credentials ---------------------------------------------------------------------


def _claims(request: httpx.Request) -> dict[str, Any]:
    token = request.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["kid"] == KEY_ID
    return jwt.decode(token, PUBLIC_KEY, algorithms=["ES256"], audience="appstoreconnect-v1")


@respx.mock
def test_a_401_signs_a_new_token_and_tries_again() -> None:
    route = respx.get(url__startswith=BASE + REVIEWS_PATH).mock(side_effect=[
        httpx.Response(401, json=error(401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.", "expired")),
        httpx.Response(200, json=page([review(1)])),
    ])
    pages = fetch()
    assert route.call_count == 2 and len(reviews_of(pages)) == 1
    assert all(_claims(call.request)["iss"] == ISSUER_ID for call in route.calls)


@respx.mock
def test_a_token_is_taken_by_apple_even_when_this_machines_clock_runs_a_minute_fast() -> None:
    """Apple refuses a token whose exp is more than 20 minutes ahead of its own clock."""
    apple_clock_behind = 60

    def apple(request: httpx.Request) -> httpx.Response:
        claims = _claims(request)
        apple_now = datetime.now(timezone.utc).timestamp() - apple_clock_behind
        if claims["exp"] - apple_now > 20 * 60:
            return httpx.Response(401, json=error(401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.",
                                                  "The token expiration is too far in the future."))
        return httpx.Response(200, json=page([review(1)]))

    route = respx.get(url__startswith=BASE + REVIEWS_PATH).mock(side_effect=apple)
    assert len(reviews_of(fetch())) == 1 and route.call_count == 1
    claims = _claims(route.calls[0].request)
    assert claims["exp"] - claims["iat"] == 19 * 60


@respx.mock
def test_a_401_after_a_fresh_token_names_the_variable_and_leaks_nothing() -> None:
    refusal = error(401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.",
                    "Provide a properly configured and signed bearer token, and make sure that it has not expired.")
    route = respx.get(url__startswith=BASE + REVIEWS_PATH).mock(return_value=httpx.Response(401, json=refusal))
    with pytest.raises(AuthError) as caught:
        fetch()
    message = str(caught.value)
    assert route.call_count == 2 and "even after refreshing the token" in message and KEY_ENV in message
    assert "NOT_AUTHORIZED" in message and "signed bearer token" in message
    tokens = [call.request.headers["Authorization"].removeprefix("Bearer ") for call in route.calls]
    assert not any(token in message for token in tokens) and "eyJ" not in message
    assert "PRIVATE KEY" not in message and PEM.splitlines()[1] not in message


def test_a_missing_key_variable_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(MissingCredential, match=f"{KEY_ENV} is not set"):
        run(lambda connector: asyncio.sleep(0))


@respx.mock
def test_the_variable_may_name_the_p8_file_instead(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    key_file = tmp_path / f"AuthKey_{KEY_ID}.p8"
    key_file.write_text(PEM)
    monkeypatch.setenv(KEY_ENV, str(key_file))
    route = serve({None: page([review(1)])})
    fetch()
    assert _claims(route.calls[0].request)["iss"] == ISSUER_ID


@respx.mock
def test_a_one_line_key_with_escaped_newlines_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, PEM.strip().replace("\n", "\\n"))
    route = serve({None: page([])})
    fetch()
    assert _claims(route.calls[0].request)["iss"] == ISSUER_ID


def test_a_variable_with_neither_key_nor_file_says_so_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg")
    with pytest.raises(AuthError, match=f"{KEY_ENV} holds neither") as caught:
        run(lambda connector: asyncio.sleep(0))
    assert "MIGHAgEA" not in str(caught.value)


# --- replying ------------------------------------------------------------------------


def target(n: int, *, replied: bool = False) -> ReplyTarget:
    included = [response(n)] if replied else []
    return ReplyTarget(external_id=review_id(n), url=None, raw={"data": review(n, replied=replied), "included": included})


@respx.mock
def test_a_reply_posts_the_response_resource() -> None:
    text = "Sorry about the crash — version 3.8 fixes it. Write to support@bistro.example."
    route = respx.post(RESPONSES).mock(return_value=httpx.Response(201, json=posted(7, text)))
    result = run(lambda c: c.post_reply(target(7), text))
    request = route.calls[0].request
    assert request.method == "POST" and str(request.url) == RESPONSES
    assert json.loads(request.content) == {"data": {
        "type": "customerReviewResponses", "attributes": {"responseBody": text},
        "relationships": {"review": {"data": {"type": "customerReviews", "id": review_id(7)}}},
    }}
    assert _claims(request)["iss"] == ISSUER_ID
    attributes = posted(7, text)["data"]["attributes"]
    assert (result.reply_id, result.state, result.text) == ("resp-7", "PENDING_PUBLISH", text)
    assert result.posted_at == datetime.fromisoformat(attributes["lastModifiedDate"])


@pytest.mark.parametrize(("status", "code", "detail"), [
    (409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "responseBody is too long"),
    (422, "ENTITY_ERROR", "This review cannot be responded to"),
    (400, "PARAMETER_ERROR.INVALID", "relationships.review is invalid"),
])
@respx.mock
def test_a_refused_reply_carries_apples_reason(status: int, code: str, detail: str) -> None:
    respx.post(RESPONSES).mock(return_value=httpx.Response(status, json=error(status, code, "The request entity is not valid.", detail)))
    with pytest.raises(ReplyRejected, match=f"refused the reply \\({status}\\): {code}") as caught:
        run(lambda c: c.post_reply(target(7), "Thanks"))
    assert detail in str(caught.value)


@respx.mock
def test_posting_again_after_a_crash_just_replaces_the_response() -> None:
    route = respx.post(RESPONSES).mock(side_effect=[
        httpx.Response(201, json=posted(7, "Thanks", state="PENDING_PUBLISH")),
        httpx.Response(201, json=posted(7, "Thanks", state="PUBLISHED")),
    ])
    assert AppStoreConnectConnector.capabilities.reply_upsert is True
    first = run(lambda c: c.post_reply(target(7), "Thanks"))  # stored? the process died before it could say
    second = run(lambda c: c.post_reply(target(7), "Thanks"))
    assert route.call_count == 2 and route.calls[0].request.content == route.calls[1].request.content
    assert (first.reply_id, second.reply_id, second.state) == ("resp-7", "resp-7", "PUBLISHED")


@respx.mock
def test_delete_reply_uses_the_response_named_in_the_stored_review() -> None:
    delete = respx.delete(f"{RESPONSES}/resp-3").mock(return_value=httpx.Response(204))
    lookup = respx.get(f"{BASE}/v1/customerReviews/{review_id(3)}/response")
    assert run(lambda c: c.delete_reply(target(3, replied=True))) is True
    assert delete.call_count == 1 and lookup.call_count == 0


@respx.mock
def test_delete_reply_asks_apple_when_the_stored_review_does_not_know_the_response() -> None:
    lookup = respx.get(f"{BASE}/v1/customerReviews/{review_id(3)}/response").mock(
        return_value=httpx.Response(200, json={"data": response(3, body="Posted after the last poll")}))
    delete = respx.delete(f"{RESPONSES}/resp-3").mock(return_value=httpx.Response(204))
    assert run(lambda c: c.delete_reply(target(3))) is True
    assert lookup.call_count == 1 and delete.call_count == 1


@respx.mock
def test_delete_reply_with_a_stale_id_looks_up_the_current_one() -> None:
    respx.delete(f"{RESPONSES}/resp-3").mock(return_value=httpx.Response(404, json=error(404, "NOT_FOUND", "Not found", "gone")))
    current = {**response(3), "id": "resp-3b"}
    respx.get(f"{BASE}/v1/customerReviews/{review_id(3)}/response").mock(return_value=httpx.Response(200, json={"data": current}))
    fresh = respx.delete(f"{RESPONSES}/resp-3b").mock(return_value=httpx.Response(204))
    assert run(lambda c: c.delete_reply(target(3, replied=True))) is True
    assert fresh.call_count == 1


@pytest.mark.parametrize("answer", [
    httpx.Response(404, json=error(404, "NOT_FOUND", "The specified resource does not exist", "no response")),
    httpx.Response(200, json={"data": None}),
], ids=["404", "data-null"])
@respx.mock
def test_delete_reply_without_a_response_is_false(answer: httpx.Response) -> None:
    respx.get(f"{BASE}/v1/customerReviews/{review_id(3)}/response").mock(return_value=answer)
    delete = respx.delete(url__startswith=RESPONSES)
    assert run(lambda c: c.delete_reply(target(3))) is False
    assert delete.call_count == 0
