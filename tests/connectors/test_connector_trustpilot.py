"""The Trustpilot connector against respx-mocked answers in the documented shapes."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import httpx
import pydantic
import pytest
import respx

from connectors.base import ReplyTarget
from connectors.errors import AuthError, BadResponse, ReplyRejected
from connectors.http import Http, make_client
from connectors.secrets import MissingCredential
from connectors.trustpilot import TrustpilotConnector, TrustpilotOptions
from tests.trustpilot_api import (
    BASE,
    BUSINESS_UNIT,
    BUSINESS_USER,
    LISTING_PATH,
    TOKEN_PATH,
    error,
    listing,
    review,
    review_id,
    token,
    when,
)

KEY, SECRET, REFRESH = "tp-key-0123456789", "tp-secret-abcdefgh", "tp-refresh-zyxwvuts"
REPLY_OPTIONS = {"api_secret_env": "TP_SECRET", "business_user_id": BUSINESS_USER}
REPLY_URL = f"{BASE}/v1/private/reviews/{review_id(7)}/reply"
TARGET = ReplyTarget(review_id(7), f"https://www.trustpilot.com/reviews/{review_id(7)}", raw={"id": review_id(7)})


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TP_KEY", KEY)
    monkeypatch.setenv("TP_SECRET", SECRET)
    monkeypatch.setenv("TP_REFRESH", REFRESH)


def options(**extra) -> TrustpilotOptions:
    return TrustpilotOptions(business_unit_id=BUSINESS_UNIT, api_key_env="TP_KEY", base_url=BASE, **extra)


def with_connector(use, **extra):
    """Build the connector as the service does and run `use(connector)` on it."""
    async def run():
        async with make_client() as client:
            return await use(TrustpilotConnector(options(**extra), http=Http(client)))

    return asyncio.run(run())


def fetch(cursor=None, **extra):
    async def pages(connector):
        return [page async for page in connector.fetch(cursor)]

    return with_connector(pages, **extra)


def serve(pages: dict[int, dict]) -> tuple[respx.Route, list[int]]:
    """Answer the listing by its `page` parameter; pages not given are past the end (empty)."""
    asked: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        asked.append(number)
        return httpx.Response(200, json=pages.get(number, listing([], page=number)))

    return respx.get(BASE + LISTING_PATH).mock(side_effect=answer), asked


def numbered(first: int, count: int) -> list[dict]:
    return [review(n) for n in range(first, first + count)]


def three_pages_of_five(extra_top: list[dict] | None = None) -> dict[int, dict]:
    """Reviews 0..14 (plus any newer ones on top), five a page, newest first, as the platform sorts them."""
    records = (extra_top or []) + numbered(0, 15)
    chunks = [records[i:i + 5] for i in range(0, len(records), 5)]
    return {i: listing(chunk, page=i, next_page=i + 1 if i < len(chunks) else None) for i, chunk in enumerate(chunks, start=1)}


def reviews_of(pages) -> list:
    return [r for p in pages for r in p.reviews]


@respx.mock
def test_reads_every_page_until_there_is_no_next_page_link() -> None:
    route, asked = serve(three_pages_of_five())
    pages = fetch(per_page=5)
    assert asked == [1, 2, 3]
    assert [r.external_id for r in reviews_of(pages)] == [review_id(n) for n in range(15)]
    request = route.calls[0].request
    assert request.headers["apikey"] == KEY
    assert dict(request.url.params) == {"perPage": "5", "page": "1", "orderBy": "createdat.desc"}
    first = reviews_of(pages)[0]
    assert (first.rating, first.title, first.text, first.author, first.language) == (4, "Title 0", "Review number 0.", "Customer 0", "en")
    assert first.created_at == datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc) and first.updated_at is None
    assert first.url == f"https://www.trustpilot.com/reviews/{review_id(0)}"
    assert first.raw["consumer"]["displayName"] == "Customer 0" and first.raw["isVerified"] is True
    assert all(p.cursor is None and not p.complete for p in pages[:-1])
    assert pages[-1].complete and pages[-1].cursor["latest"] == first.created_at.isoformat()
    assert "full_sync_at" in pages[-1].cursor


@respx.mock
def test_a_page_past_the_end_is_empty_and_ends_the_listing() -> None:
    _, asked = serve({1: listing(numbered(0, 5), page=1, next_page=2)})  # the platform links to an empty page 2
    pages = fetch(per_page=5)
    assert asked == [1, 2]
    assert len(reviews_of(pages)) == 5
    assert pages[0].cursor is None and pages[-1].reviews == []
    assert pages[-1].complete and pages[-1].cursor["latest"] == when(0).replace("Z", "+00:00")


@respx.mock
def test_a_business_without_reviews_is_an_empty_complete_listing() -> None:
    serve({})
    [page] = fetch()
    assert page.reviews == [] and page.errors == [] and page.complete
    assert "latest" not in page.cursor


@respx.mock
def test_rating_only_unanswered_and_answered_reviews() -> None:
    silent = review(1, text="")
    silent["text"] = None
    del silent["title"]
    answered = review(2, stars=1, reply="Sorry to hear that — we have called you.")
    serve({1: listing([silent, answered])})
    [first, second] = reviews_of(fetch())
    assert (first.text, first.title, first.rating, first.owner_reply) == ("", None, 4, None)
    assert second.rating == 1 and second.owner_reply == "Sorry to hear that — we have called you."


@respx.mock
def test_unicode_text_is_kept() -> None:
    text = "Très bien ✓ — 東京でも最高 مرحبا 👍"
    serve({1: listing([review(1, text=text, title="Ünïcödé", language="fr")])})
    [only] = reviews_of(fetch())
    assert (only.text, only.title, only.language) == (text, "Ünïcödé", "fr")


@respx.mock
def test_the_second_poll_stops_at_reviews_it_already_has() -> None:
    serve(three_pages_of_five())
    cursor = fetch(per_page=5, margin="3m")[-1].cursor
    respx.mock.reset()
    newer = [review(-2, text="Newest."), review(-1)]
    _, asked = serve(three_pages_of_five(newer))
    pages = fetch(cursor, per_page=5, margin="3m")
    assert asked == [1, 2]  # page 2 reaches reviews created before the saved mark less 3 minutes
    assert [r.external_id for r in reviews_of(pages)][:2] == [review_id(-2), review_id(-1)]
    assert not pages[-1].complete
    assert pages[-1].cursor == {"latest": when(-2).replace("Z", "+00:00"), "full_sync_at": cursor["full_sync_at"]}


@respx.mock
def test_an_edit_of_an_older_review_is_seen_by_the_periodic_full_listing() -> None:
    pages = three_pages_of_five()
    edited = review(12, text="Update: they fixed it.", stars=5, updated_minutes_ago=-30)
    pages[3]["reviews"][2] = edited
    _, asked = serve(pages)
    mark = when(0).replace("Z", "+00:00")
    recent = datetime.now(timezone.utc).isoformat()
    incremental = fetch({"latest": mark, "full_sync_at": recent}, per_page=5, margin="3m")
    assert asked == [1] and review_id(12) not in {r.external_id for r in reviews_of(incremental)}

    asked.clear()
    overdue = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    full = fetch({"latest": mark, "full_sync_at": overdue}, per_page=5, margin="3m")
    assert asked == [1, 2, 3]
    found = {r.external_id: r for r in reviews_of(full)}[review_id(12)]
    assert (found.text, found.rating) == ("Update: they fixed it.", 5)
    assert found.updated_at > found.created_at
    assert full[-1].complete and full[-1].cursor["full_sync_at"] > overdue


@respx.mock
def test_a_malformed_review_is_a_row_error_and_the_rest_land() -> None:
    bad_stars = review(2, stars="five")
    no_id = review(3)
    del no_id["id"]
    no_created = review(4)
    no_created["createdAt"] = None
    serve({1: listing([review(1), bad_stars, no_id, no_created, "nonsense", review(6)])})
    pages = fetch()
    assert [r.external_id for r in reviews_of(pages)] == [review_id(1), review_id(6)]
    assert [(e.where, e.message) for e in pages[0].errors] == [
        ("page 1, review 2", "rating must be a whole number from 1 to 5, not 'five'"),
        ("page 1, review 3", "id is missing"),
        ("page 1, review 4", "createdAt is missing"),
        ("page 1, review 5", "expected an object, got str"),
    ]
    assert pages[0].errors[0].raw["stars"] == "five" and pages[0].errors[3].raw == "nonsense"


@respx.mock
def test_a_repeated_next_page_link_stops_reading_and_is_not_complete() -> None:
    looping = listing(numbered(5, 5), page=2, next_page=2)  # page 2 says the next page is page 2 again
    _, asked = serve({1: listing(numbered(0, 5), page=1, next_page=2), 2: looping, 3: listing(numbered(10, 5), page=3)})
    pages = fetch(per_page=5)
    assert asked == [1, 2]
    assert len(reviews_of(pages)) == 10
    last = pages[-1]
    assert [e.where for e in last.errors] == ["paging"] and "repeated page token" in last.errors[0].message
    assert not last.complete and "latest" not in last.cursor and "full_sync_at" not in last.cursor


@respx.mock
def test_the_page_ceiling_stops_reading_and_keeps_the_old_mark() -> None:
    _, asked = serve(three_pages_of_five())
    previous = {"latest": when(60).replace("Z", "+00:00"), "full_sync_at": datetime.now(timezone.utc).isoformat()}
    pages = fetch(previous, per_page=5, max_pages=2)
    assert asked == [1, 2]
    assert "max_pages" in pages[-1].errors[0].message and not pages[-1].complete
    assert pages[-1].cursor == previous  # reviews below page 2 are unread: the mark must not move past them


@respx.mock
def test_429_with_and_without_retry_after_then_success() -> None:
    route = respx.get(BASE + LISTING_PATH).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(429), httpx.Response(200, json=listing([review(1)])),
    ])
    assert len(reviews_of(fetch())) == 1 and route.call_count == 3


@respx.mock
def test_a_burst_of_server_errors_then_success() -> None:
    route = respx.get(BASE + LISTING_PATH).mock(side_effect=[
        httpx.Response(503), httpx.Response(500), httpx.Response(200, json=listing([review(1)])),
    ])
    assert len(reviews_of(fetch())) == 1 and route.call_count == 3


@pytest.mark.parametrize(("answer", "message"), [
    (httpx.Response(200, text="<html>maintenance</html>"), "did not answer with JSON"),
    (httpx.Response(200, json={"links": []}), "no 'reviews' array"),
    (httpx.Response(200, json=[]), "not a JSON object"),
])
@respx.mock
def test_an_unreadable_listing_is_a_bad_response(answer: httpx.Response, message: str) -> None:
    respx.get(BASE + LISTING_PATH).mock(return_value=answer)
    with pytest.raises(BadResponse, match=message):
        fetch()


@respx.mock
def test_a_refused_api_key_names_its_variable_and_not_its_value() -> None:
    route = respx.get(BASE + LISTING_PATH).mock(return_value=httpx.Response(401, json=error(f"Invalid ApiKey {KEY}", 401)))
    with pytest.raises(AuthError) as caught:
        fetch()
    assert route.call_count == 2  # a fixed key cannot be refreshed; asked once more, then refused
    assert "TP_KEY" in str(caught.value) and KEY not in str(caught.value)


def test_a_missing_variable_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TP_KEY")
    with pytest.raises(MissingCredential, match="TP_KEY.*sources.api_key_env"):
        fetch()


def test_a_reply_variable_named_but_not_set_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TP_SECRET")
    with pytest.raises(MissingCredential, match="TP_SECRET.*sources.api_secret_env"):
        fetch(**REPLY_OPTIONS)


@pytest.mark.parametrize("bad", [{"per_page": 101}, {"business_unit_id": "example.com"}, {"api_key_env": "not a name"}])
def test_options_are_checked(bad: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        TrustpilotOptions(**{"business_unit_id": BUSINESS_UNIT, "api_key_env": "TP_KEY", **bad})


# --- replies -----------------------------------------------------------------------------

def post(text: str, **extra):
    async def use(connector):
        return connector.replies_configured, await connector.post_reply(TARGET, text)

    return with_connector(use, **{**REPLY_OPTIONS, **extra})


@respx.mock
def test_a_reply_is_posted_as_the_business_user() -> None:
    tokens = respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token("tp-access-1")))
    created = when(-5)
    replies = respx.post(REPLY_URL).mock(return_value=httpx.Response(201, json={"reply": {"message": "Thank you!", "createdAt": created}}))
    configured, posted = post("Thank you!")
    assert configured
    sent = replies.calls[0].request
    assert sent.method == "POST" and sent.headers["Authorization"] == "Bearer tp-access-1"
    assert json.loads(sent.content) == {"authorBusinessUserId": BUSINESS_USER, "message": "Thank you!"}
    assert posted.text == "Thank you!" and posted.posted_at == datetime.fromisoformat(created)
    exchange = tokens.calls[0].request  # the documented client-credentials grant: key and secret, no refresh token
    assert exchange.url.path == TOKEN_PATH
    assert exchange.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert dict(parse_qsl(exchange.content.decode())) == {"grant_type": "client_credentials"}


@respx.mock
def test_a_reply_answered_with_an_empty_201_is_posted() -> None:
    respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token()))
    respx.post(REPLY_URL).mock(return_value=httpx.Response(201))
    _, posted = post("Thanks.")
    assert posted.text == "Thanks." and posted.reply_id is None and posted.posted_at is None


@respx.mock
def test_a_refused_reply_carries_trustpilots_reason() -> None:
    respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token()))
    respx.post(REPLY_URL).mock(return_value=httpx.Response(400, json=error("Message contains prohibited content")))
    with pytest.raises(ReplyRejected, match=r"refused the reply \(400\): Message contains prohibited content"):
        post("Call 555-0100 now")


@respx.mock
def test_an_expired_token_is_refreshed_once_and_the_reply_goes_through() -> None:
    tokens = respx.post(BASE + TOKEN_PATH).mock(side_effect=[
        httpx.Response(200, json=token("tp-access-old")), httpx.Response(200, json=token("tp-access-new")),
    ])
    replies = respx.post(REPLY_URL).mock(side_effect=lambda request: httpx.Response(
        201 if request.headers["Authorization"] == "Bearer tp-access-new" else 401))
    _, posted = post("Thank you!")
    assert tokens.call_count == 2 and replies.call_count == 2 and posted.text == "Thank you!"


@respx.mock
def test_a_token_refused_after_refresh_names_the_variables_and_leaks_nothing() -> None:
    respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token("tp-access-secret-777")))
    respx.post(REPLY_URL).mock(return_value=httpx.Response(401, json=error("token tp-access-secret-777 is not valid", 401)))
    with pytest.raises(AuthError) as caught:
        post("Thank you!")
    message = str(caught.value)
    assert "even after refreshing the token" in message and "check TP_KEY, TP_SECRET" in message
    assert not any(secret in message for secret in (KEY, SECRET, REFRESH, "tp-access-secret-777"))


def test_without_reply_options_replies_are_off_and_posting_says_what_to_set() -> None:
    async def use(connector):
        return connector.replies_configured, await connector.post_reply(TARGET, "Thanks")

    with pytest.raises(AuthError, match="needs the source options api_secret_env, business_user_id; not set: business_user_id"):
        with_connector(use, api_secret_env="TP_SECRET")


async def _configured(connector) -> bool:
    return connector.replies_configured


def test_replies_configured_reflects_the_options() -> None:
    assert with_connector(_configured) is False
    assert with_connector(_configured, **REPLY_OPTIONS) is True


def read_back():
    async def use(connector):
        return await connector.current_reply(TARGET)

    return with_connector(use, **REPLY_OPTIONS)


@respx.mock
def test_after_a_crash_our_reply_is_found_on_the_review() -> None:
    single = respx.get(f"{BASE}/v1/reviews/{review_id(7)}").mock(
        return_value=httpx.Response(200, json=review(7, reply="Thank you!")))
    found = read_back()
    assert found.text == "Thank you!" and found.posted_at == datetime.fromisoformat(when(0))
    assert single.call_count == 1 and single.calls[0].request.headers["apikey"] == KEY


@respx.mock
def test_after_a_crash_an_unanswered_or_vanished_review_has_no_reply() -> None:
    respx.get(f"{BASE}/v1/reviews/{review_id(7)}").mock(side_effect=[
        httpx.Response(200, json=review(7)), httpx.Response(404, json=error("Review not found", 404)),
    ])
    assert read_back() is None
    assert read_back() is None


@respx.mock
def test_the_token_is_kept_until_it_expires_then_a_new_one_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody renews anything by hand: the grant is simply asked again once its token expires."""
    import connectors.auth

    clock = [1_800_000_000.0]
    monkeypatch.setattr(connectors.auth.time, "time", lambda: clock[0])
    tokens = respx.post(BASE + TOKEN_PATH).mock(side_effect=[
        httpx.Response(200, json=token("tp-access-1")), httpx.Response(200, json=token("tp-access-2")),
    ])
    replies = respx.post(REPLY_URL).mock(return_value=httpx.Response(201))

    async def three_replies(connector):
        await connector.post_reply(TARGET, "One.")
        clock[0] += 3600  # an hour later: the token (about 100 hours) still holds
        await connector.post_reply(TARGET, "Two.")
        clock[0] += 359_999  # past its expiry
        await connector.post_reply(TARGET, "Three.")

    with_connector(three_replies, **REPLY_OPTIONS)
    assert tokens.call_count == 2
    assert all(dict(parse_qsl(call.request.content.decode())) == {"grant_type": "client_credentials"} for call in tokens.calls)
    used = [call.request.headers["Authorization"] for call in replies.calls]
    assert used == ["Bearer tp-access-1", "Bearer tp-access-1", "Bearer tp-access-2"]


@respx.mock
def test_the_old_refresh_token_config_still_replies_and_says_it_is_deprecated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TP_REFRESH")  # no longer read: an expired or removed refresh token does not matter
    old = {**REPLY_OPTIONS, "refresh_token_env": "TP_REFRESH"}
    tokens = respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token()))
    respx.post(REPLY_URL).mock(return_value=httpx.Response(201))
    configured, posted = post("Thank you!", refresh_token_env="TP_REFRESH")
    assert configured and posted.text == "Thank you!"
    assert dict(parse_qsl(tokens.calls[0].request.content.decode())) == {"grant_type": "client_credentials"}
    [message] = options(**old).deprecations
    assert "refresh_token_env is no longer used" in message and "remove it" in message and "client-credentials" in message
    assert options(**REPLY_OPTIONS).deprecations == ()


DELETE_URL = REPLY_URL


def withdraw():
    async def use(connector):
        return await connector.delete_reply(TARGET)

    return with_connector(use, **REPLY_OPTIONS)


@respx.mock
def test_withdrawing_a_reply_uses_the_documented_delete_as_the_business_user() -> None:
    respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token("tp-access-9")))
    deleted = respx.delete(DELETE_URL).mock(return_value=httpx.Response(204))
    withdraw()
    assert deleted.call_count == 1 and deleted.calls[0].request.headers["Authorization"] == "Bearer tp-access-9"


@respx.mock
def test_withdrawing_a_reply_that_is_already_gone_is_done() -> None:
    respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token()))
    respx.delete(DELETE_URL).mock(return_value=httpx.Response(404, json=error("Reply not found", 404)))
    withdraw()


@respx.mock
def test_a_refused_withdrawal_carries_trustpilots_reason() -> None:
    respx.post(BASE + TOKEN_PATH).mock(return_value=httpx.Response(200, json=token()))
    respx.delete(DELETE_URL).mock(return_value=httpx.Response(400, json=error("Reply cannot be deleted")))
    with pytest.raises(ReplyRejected, match=r"refused to delete the reply \(400\): Reply cannot be deleted"):
        withdraw()


def test_withdrawing_without_reply_options_says_what_to_set() -> None:
    async def use(connector):
        return await connector.delete_reply(TARGET)

    with pytest.raises(AuthError, match="not set: api_secret_env, business_user_id"):
        with_connector(use)
