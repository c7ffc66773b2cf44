"""The Yelp connector against respx-mocked Places API (v3) responses in the documented shape."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pydantic
import pytest
import respx

from connectors.errors import AuthError, BadResponse, ConnectorError, NotAuthorised, RateLimited
from connectors.http import Http, make_client
from connectors.secrets import MissingCredential
from connectors.yelp import YelpConnector, YelpOptions
from tests.yelp_tripadvisor_api import (
    YELP_BASE,
    YELP_BUSINESS,
    YELP_KEY,
    YELP_PATH,
    yelp_error,
    yelp_review,
    yelp_reviews,
)

URL = YELP_BASE + YELP_PATH


@pytest.fixture(autouse=True)
def yelp_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YELP_API_KEY", YELP_KEY)


def options(**overrides) -> YelpOptions:
    values = {"business_id": YELP_BUSINESS, "api_key_env": "YELP_API_KEY", "base_url": YELP_BASE, **overrides}
    return YelpOptions(**values)


def fetch(cursor=None, *, budget: float | None = None, **overrides):
    async def run():
        async with make_client() as client:
            http = Http(client) if budget is None else Http(client, budget=budget)
            connector = YelpConnector(options(**overrides), http=http)
            return [page async for page in connector.fetch(cursor)]

    return asyncio.run(run())


def serve(*responses: httpx.Response | dict) -> respx.Route:
    answers = [r if isinstance(r, httpx.Response) else httpx.Response(200, json=r) for r in responses]
    return respx.mock.get(URL).mock(side_effect=answers)


@respx.mock
def test_reads_the_excerpts_yelp_shows_in_one_request() -> None:
    summer, winter = yelp_review(1, time_created="2026-04-18 19:32:11"), yelp_review(2, time_created="2026-01-10 09:00:00", rating=1)
    route = serve(yelp_reviews([summer, winter, yelp_review(3)], total=1245))
    pages = fetch()
    assert route.call_count == 1 and len(pages) == 1
    request = route.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {YELP_KEY}"
    assert dict(request.url.params) == {"limit": "3"}
    page = pages[0]
    assert page.errors == [] and page.complete is False
    first, second, _ = page.reviews
    assert (first.external_id, first.rating, first.text, first.author, first.title) == (summer["id"], 4, "Excerpt of review 1...", "Ella B.", None)
    assert first.url == summer["url"] and first.owner_reply is None
    assert first.created_at.isoformat() == "2026-04-19T02:32:11+00:00"  # PDT is UTC-7
    assert second.created_at.isoformat() == "2026-01-10T17:00:00+00:00"  # PST is UTC-8
    assert all(r.excerpt for r in page.reviews)
    assert first.raw == summer
    assert page.cursor == {"latest": "2026-04-19T02:32:11+00:00"}


@respx.mock
def test_locale_and_limit_are_passed_on() -> None:
    route = serve(yelp_reviews([]))
    fetch(locale="de_DE", limit=20)
    assert dict(route.calls[0].request.url.params) == {"limit": "20", "locale": "de_DE"}


@respx.mock
def test_an_alias_with_accents_is_escaped_whether_pasted_raw_or_encoded() -> None:
    route = respx.mock.get(YELP_BASE + "/v3/businesses/caf%C3%A9-lumi%C3%A8re-paris/reviews").mock(
        return_value=httpx.Response(200, json=yelp_reviews([])))
    fetch(business_id="café-lumière-paris")
    fetch(business_id="caf%C3%A9-lumi%C3%A8re-paris")
    assert route.call_count == 2


@respx.mock
def test_no_reviews_is_an_empty_page_that_keeps_the_saved_cursor() -> None:
    serve(yelp_reviews([], total=0), yelp_reviews([], total=0))
    assert [(p.reviews, p.errors, p.cursor, p.complete) for p in fetch()] == [([], [], None, False)]
    saved = {"latest": "2026-03-01T10:00:00+00:00"}
    assert fetch(saved)[0].cursor == saved


@respx.mock
def test_every_poll_reads_afresh_so_an_edited_excerpt_comes_back() -> None:
    before = yelp_review(1, text="Great food, slow service...", rating=4)
    after = yelp_review(1, text="Cold food and a rude waiter...", rating=2)
    route = serve(yelp_reviews([before]), yelp_reviews([after, yelp_review(2, time_created="2025-12-01 08:00:00")]))
    first = fetch()
    second = fetch(first[-1].cursor)
    assert route.call_count == 2
    edited = second[0].reviews[0]
    assert (edited.external_id, edited.text, edited.rating) == (before["id"], "Cold food and a rude waiter...", 2)
    assert second[0].cursor == first[0].cursor == {"latest": "2026-04-19T02:32:11+00:00"}  # an older review does not move it back
    assert not any(p.complete for p in first + second)


@respx.mock
def test_unicode_text_is_kept_and_nul_bytes_are_not() -> None:
    serve(yelp_reviews([yelp_review(1, text="Ünïcödé ✓ مرحبا 🍜 ramen\x00!")]))
    assert fetch()[0].reviews[0].text == "Ünïcödé ✓ مرحبا 🍜 ramen\ufffd!"


@respx.mock
def test_a_malformed_review_is_a_row_error_and_the_rest_land() -> None:
    no_id = yelp_review(2)
    del no_id["id"]
    bad_time = yelp_review(4, time_created="yesterday")
    serve(yelp_reviews([yelp_review(1), no_id, yelp_review(3, rating="five"), bad_time, "nonsense", yelp_review(6)]))
    page = fetch()[0]
    assert [r.external_id for r in page.reviews] == [yelp_review(1)["id"], yelp_review(6)["id"]]
    assert [(e.where, e.message) for e in page.errors] == [
        ("review 2", "id is missing"),
        ("review 3", "rating must be a whole number from 1 to 5, not 'five'"),
        ("review 4", "time_created 'yesterday' is not a time like '2026-04-18 19:32:11'"),
        ("review 5", "expected an object, got str"),
    ]
    assert page.errors[0].raw == no_id and page.errors[3].raw == "nonsense"


@respx.mock
def test_a_rating_only_review_has_empty_text() -> None:
    serve(yelp_reviews([{**yelp_review(1), "text": None}, yelp_review(2, text="")]))
    reviews = fetch()[0].reviews
    assert [(r.text, r.rating) for r in reviews] == [("", 4), ("", 4)]


@respx.mock
def test_a_401_then_success_sends_the_key_again() -> None:
    route = serve(httpx.Response(401, json=yelp_error("TOKEN_INVALID", "Invalid access token")), yelp_reviews([yelp_review(1)]))
    assert len(fetch()[0].reviews) == 1
    assert route.call_count == 2
    assert all(call.request.headers["Authorization"] == f"Bearer {YELP_KEY}" for call in route.calls)


@respx.mock
def test_a_refused_key_names_its_variable_and_is_not_shown() -> None:
    respx.mock.get(URL).mock(return_value=httpx.Response(401, json=yelp_error("TOKEN_INVALID", f"Invalid access token {YELP_KEY}")))
    with pytest.raises(AuthError) as caught:
        fetch()
    message = str(caught.value)
    assert "TOKEN_INVALID" in message and "check the key in the environment variable YELP_API_KEY" in message
    assert YELP_KEY not in message and "[redacted]" in message


@respx.mock
def test_429_per_second_with_and_without_retry_after_is_retried() -> None:
    too_fast = yelp_error("TOO_MANY_REQUESTS_PER_SECOND", "You have exceeded the queries-per-second limit for this endpoint.")
    route = serve(httpx.Response(429, headers={"Retry-After": "1"}, json=too_fast), httpx.Response(429, json=too_fast),
                  yelp_reviews([yelp_review(1)]))
    assert len(fetch()[0].reviews) == 1
    assert route.call_count == 3


@respx.mock
def test_the_daily_limit_fails_at_once_and_says_so() -> None:
    reset = (datetime.now(timezone.utc) + timedelta(hours=5)).replace(microsecond=0).isoformat()
    route = respx.mock.get(URL).mock(return_value=httpx.Response(
        429, headers={"RateLimit-ResetTime": reset, "RateLimit-DailyLimit": "300", "RateLimit-Remaining": "0"},
        json=yelp_error("ACCESS_LIMIT_REACHED", "You've reached the access limits for this client."),
    ))
    with pytest.raises(RateLimited) as caught:
        fetch(budget=60)
    message = str(caught.value)
    assert route.call_count == 1
    assert "daily API limit" in message and "ACCESS_LIMIT_REACHED" in message and "more than this source's time budget" in message
    assert caught.value.retry_after > 4 * 3600 and YELP_KEY not in message


@respx.mock
def test_a_burst_of_server_errors_is_retried() -> None:
    route = serve(httpx.Response(503), httpx.Response(502), yelp_reviews([yelp_review(1)]))
    assert len(fetch()[0].reviews) == 1 and route.call_count == 3


@pytest.mark.parametrize(("response", "message"), [
    (httpx.Response(200, text="<html>maintenance</html>"), "did not answer with JSON"),
    (httpx.Response(200, json={"businesses": []}), "no 'reviews' list"),
    (httpx.Response(200, json={"reviews": {"id": "x"}}), "'reviews' is not a list"),
])
@respx.mock
def test_an_unreadable_answer_is_a_bad_response(response: httpx.Response, message: str) -> None:
    respx.mock.get(URL).mock(return_value=response)
    with pytest.raises(BadResponse, match=message):
        fetch()


@respx.mock
def test_an_unknown_business_fails_with_yelps_description() -> None:
    route = respx.mock.get(URL).mock(return_value=httpx.Response(
        400, json=yelp_error("BUSINESS_NOT_FOUND", "The requested business could not be found.")))
    with pytest.raises(ConnectorError, match="BUSINESS_NOT_FOUND: The requested business could not be found") as caught:
        fetch()
    assert YELP_BUSINESS in str(caught.value) and route.call_count == 1


@respx.mock
def test_a_missing_key_variable_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YELP_API_KEY")
    with pytest.raises(MissingCredential, match=r"YELP_API_KEY is not set \(the config names it in sources.api_key_env\)"):
        fetch()
    assert respx.mock.calls.call_count == 0


def test_yelp_is_read_only() -> None:
    assert YelpConnector.capabilities.platform == "Yelp" and YelpConnector.capabilities.can_reply is False
    assert not hasattr(YelpConnector, "post_reply")


@pytest.mark.parametrize("bad", [{"business_id": "a/b"}, {"limit": 0}, {"limit": 51}, {"locale": "english"},
                                 {"api_key": "secret"}, {"api_key_env": "not a name"}])
def test_options_refuse_nonsense(bad: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        options(**bad)


# --- the edges Yelp documents (issue 18) -------------------------------------------------

def _reset_in(hours: int) -> dict[str, str]:
    """The rate-limit headers Yelp sends on every answer, the per-second 429 included."""
    reset = (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(microsecond=0).isoformat()
    return {"RateLimit-ResetTime": reset, "RateLimit-DailyLimit": "300", "RateLimit-Remaining": "212"}


@respx.mock
def test_a_plan_without_the_reviews_endpoint_says_so() -> None:
    """New and trial keys get 404 NOT_FOUND from the reviews endpoint, for a business that exists."""
    route = respx.mock.get(URL).mock(return_value=httpx.Response(
        404, json=yelp_error("NOT_FOUND", "Resource could not be found."), headers=_reset_in(5)))
    with pytest.raises(NotAuthorised) as caught:
        fetch()
    message = str(caught.value)
    assert "this API key's plan has no access to reviews" in message
    assert "NOT_FOUND" in message and "unexpected answer" not in message
    assert route.call_count == 1 and YELP_KEY not in message


@respx.mock
def test_the_per_second_limit_is_retried_although_the_daily_reset_is_hours_away() -> None:
    """Yelp sends RateLimit-ResetTime on every answer; only the daily limit waits for it."""
    too_fast = yelp_error("TOO_MANY_REQUESTS_PER_SECOND", "You have exceeded the queries-per-second limit for this endpoint.")
    route = serve(httpx.Response(429, headers=_reset_in(5), json=too_fast),
                  httpx.Response(429, headers=_reset_in(5), json=too_fast),
                  httpx.Response(200, headers=_reset_in(5), json=yelp_reviews([yelp_review(1)])))
    pages = fetch(budget=60)
    assert [r.external_id for r in pages[0].reviews] == [yelp_review(1)["id"]]
    assert route.call_count == 3


@respx.mock
def test_the_per_second_limit_that_never_lifts_fails_as_a_rate_limit_not_the_daily_one() -> None:
    too_fast = yelp_error("TOO_MANY_REQUESTS_PER_SECOND", "You have exceeded the queries-per-second limit for this endpoint.")
    route = respx.mock.get(URL).mock(return_value=httpx.Response(429, headers=_reset_in(5), json=too_fast))
    with pytest.raises(RateLimited) as caught:
        fetch(budget=60)
    assert route.call_count == 3  # stamina's test mode: three attempts, no waiting
    assert "daily" not in str(caught.value) and "TOO_MANY_REQUESTS_PER_SECOND" in str(caught.value)


@respx.mock
def test_an_unavailable_business_is_the_business_not_the_key() -> None:
    route = respx.mock.get(URL).mock(return_value=httpx.Response(
        403, json=yelp_error("BUSINESS_UNAVAILABLE", "We may not provide details for this business.")))
    with pytest.raises(ConnectorError) as caught:
        fetch()
    error = caught.value
    assert not isinstance(error, AuthError | NotAuthorised)  # the source is not "needs credentials" / "not authorised"
    message = str(error)
    assert "BUSINESS_UNAVAILABLE" in message and YELP_BUSINESS in message
    assert "not of your API key" in message and route.call_count == 1


@respx.mock
def test_any_other_403_is_still_a_refusal_of_the_key() -> None:
    respx.mock.get(URL).mock(return_value=httpx.Response(
        403, json=yelp_error("AUTHORIZATION_ERROR", "Authorization failed for this endpoint.")))
    with pytest.raises(NotAuthorised, match="AUTHORIZATION_ERROR"):
        fetch()
