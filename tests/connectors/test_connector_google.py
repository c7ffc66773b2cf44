"""The Google Business Profile connector against respx-mocked API v4 answers."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import respx

from connectors.base import ReplyTarget
from connectors.errors import AuthError, BadResponse, ConnectorError, NotAuthorised, ReplyRejected
from connectors.google import GoogleBusinessConnector, GoogleOptions, split_translation
from connectors.http import Http, make_client
from connectors.secrets import MissingCredential
from tests.google_api import (
    ACCOUNT,
    BASE,
    ENV,
    LOCATION,
    OTHER_LOCATION,
    T0,
    TOKEN_URL,
    error,
    listing,
    original_first,
    quota_zero,
    reply_path,
    review,
    review_reply,
    reviews_path,
    translated,
)

ENV_NAMES = {"client_id_env": "GBP_CLIENT_ID", "client_secret_env": "GBP_CLIENT_SECRET", "refresh_token_env": "GBP_REFRESH_TOKEN"}


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def token_endpoint(router: respx.MockRouter) -> None:
    router.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "ya29.access-1", "expires_in": 3599}))


@pytest.fixture
def api(respx_mock: respx.MockRouter) -> respx.MockRouter:
    """The mocked Google: a token endpoint handing out one access token."""
    token_endpoint(respx_mock)
    return respx_mock


def next_poll(router: respx.MockRouter) -> None:
    """Forget the first poll's answers; the token endpoint stays."""
    router.routes.clear()
    token_endpoint(router)


def options(**overrides) -> GoogleOptions:
    values = {"account_id": ACCOUNT, "location_ids": [LOCATION], "base_url": BASE, "token_url": TOKEN_URL, **ENV_NAMES}
    return GoogleOptions(**{**values, **overrides})


def run(action, **overrides):
    async def main():
        async with make_client() as client:
            return await action(GoogleBusinessConnector(options(**overrides), http=Http(client)))

    return asyncio.run(main())


def fetch(cursor=None, **overrides):
    async def read(connector):
        return [page async for page in connector.fetch(cursor)]

    return run(read, **overrides)


def serve(router: respx.MockRouter, pages: list[list], location: str = LOCATION, *, tokens: list[str] | None = None) -> respx.Route:
    """One route per location; pageToken picks the page. tokens[i] is what page i+1 hands out."""
    tokens = tokens or [f"page-{n + 2}" for n in range(len(pages) - 1)]

    def answer(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pageToken")
        index = int(token.split("-")[1]) - 1 if token else 0
        return httpx.Response(200, json=listing(pages[index], next_token=tokens[index] if index < len(tokens) else None))

    return router.get(BASE + reviews_path(location)).mock(side_effect=answer)


def all_reviews(pages):
    return [r for p in pages for r in p.reviews]


def test_reads_every_page_and_maps_the_documented_fields(api) -> None:
    route = serve(api, [[review(n) for n in range(3)], [review(n) for n in range(3, 6)], [review(6, reply="Thank you, Guest 6!")]])
    pages = fetch(page_size=3)
    reviews = all_reviews(pages)
    assert [r.external_id for r in reviews] == [review(n)["reviewId"] for n in range(7)]
    first = reviews[0]
    assert (first.rating, first.text, first.author, first.location) == (4, "Review number 0.", "Guest 0", LOCATION)
    assert first.updated_at == first.created_at == T0 and first.language is None and first.translation is None
    assert first.raw["name"] == review(0)["name"] and first.raw["reviewer"]["profilePhotoUrl"].startswith("https://")
    assert reviews[6].owner_reply == "Thank you, Guest 6!"
    assert reviews[6].updated_at == T0 - timedelta(hours=6)
    sent = [call.request for call in route.calls]
    assert [r.url.params.get("pageToken") for r in sent] == [None, "page-2", "page-3"]
    assert all(r.url.params["pageSize"] == "3" and r.url.params["orderBy"] == "updateTime desc" for r in sent)
    assert all(r.headers["Authorization"] == "Bearer ya29.access-1" for r in sent)
    assert all(p.cursor is None and not p.complete for p in pages[:-1])
    assert pages[-1].complete and pages[-1].cursor["latest"] == T0.isoformat()
    assert pages[-1].cursor["locations"] == {LOCATION: T0.isoformat()}


def test_an_empty_location_is_an_empty_complete_listing(api) -> None:
    api.get(BASE + reviews_path()).mock(return_value=httpx.Response(200, json={}))
    pages = fetch()
    assert all_reviews(pages) == [] and pages[-1].complete and not pages[-1].errors
    assert pages[-1].cursor == {"full_sync_at": pages[-1].cursor["full_sync_at"], "locations": {}}


def test_rating_only_anonymous_and_unspecified_reviews(api) -> None:
    serve(api, [[review(1, comment=None, stars=5), review(2, anonymous=True, stars="STAR_RATING_UNSPECIFIED"),
                 review(3, comment="Ünïcödé ✓ 美味しい مرحبا 🍝", stars=1)]])
    rating_only, anonymous, unicode = all_reviews(fetch())
    assert (rating_only.text, rating_only.rating) == ("", 5)
    assert (anonymous.author, anonymous.rating) == (None, None)
    assert (unicode.text, unicode.rating) == ("Ünïcödé ✓ 美味しい مرحبا 🍝", 1)


def test_google_translation_envelope_is_split_into_original_and_translation(api) -> None:
    serve(api, [[review(1, comment=translated("Great food, slow service.", "Comida genial,\nservicio lento.")),
                 review(2, comment=original_first("Sehr gutes Essen.", "Very good food.")),
                 review(3, comment="We ordered the (Original)\nrecipe (Translated by Google) twice.")]])
    spanish, german, plain = all_reviews(fetch())
    assert (spanish.text, spanish.translation, spanish.language) == ("Comida genial,\nservicio lento.", "Great food, slow service.", None)
    assert (german.text, german.translation) == ("Sehr gutes Essen.", "Very good food.")
    assert (plain.text, plain.translation) == ("We ordered the (Original)\nrecipe (Translated by Google) twice.", None)
    assert split_translation("(Translated by Google) only a translation") == ("(Translated by Google) only a translation", None)


def test_second_poll_stops_at_reviews_seen_last_time(api) -> None:
    route = serve(api, [[review(n) for n in range(3)], [review(n) for n in range(3, 6)]])
    first = fetch(page_size=3)
    assert route.call_count == 2
    next_poll(api)
    newer = review(99, hours_ago=-0.5, comment="Came back, still great.")
    route = serve(api, [[newer, review(0), review(1)], [review(n) for n in range(2, 6)]])
    second = fetch(first[-1].cursor, page_size=3, margin="30m")
    assert route.call_count == 1  # page 1 already reaches reviews older than the mark less the margin
    assert all_reviews(second)[0].external_id == newer["reviewId"]
    assert not second[-1].complete
    assert second[-1].cursor["latest"] == (T0 + timedelta(minutes=30)).isoformat()
    assert second[-1].cursor["full_sync_at"] == first[-1].cursor["full_sync_at"]


@pytest.mark.parametrize(("margin", "pages_read"), [("30m", 1), ("150m", 2), ("1d", 3)])
def test_the_margin_reads_back_past_the_mark(api, margin, pages_read) -> None:
    cursor = {"latest": T0.isoformat(), "full_sync_at": datetime.now(timezone.utc).isoformat(), "locations": {LOCATION: T0.isoformat()}}
    route = serve(api, [[review(0), review(1)], [review(2), review(3)], [review(4), review(5)]])
    fetch(cursor, page_size=2, margin=margin)  # reviews are 1h apart; a page ending inside the margin is not the last
    assert route.call_count == pages_read


def test_an_edited_review_comes_back_in_an_incremental_poll(api) -> None:
    serve(api, [[review(n) for n in range(3)], [review(n) for n in range(3, 6)]])
    first = fetch(page_size=3)
    next_poll(api)
    edited = review(4, hours_ago=-1, comment="Edited: the soup was cold after all.", stars=2)
    serve(api, [[edited, review(0), review(1)], [review(2), review(3), review(5)]])
    second = fetch(first[-1].cursor, page_size=3)
    again = [r for r in all_reviews(second) if r.external_id == edited["reviewId"]]
    assert [(r.text, r.rating, r.updated_at) for r in again] == [("Edited: the soup was cold after all.", 2, T0 + timedelta(hours=1))]
    assert second[-1].cursor["locations"][LOCATION] == (T0 + timedelta(hours=1)).isoformat()


def test_a_due_full_sync_reads_everything_and_is_complete(api) -> None:
    stale = {"latest": T0.isoformat(), "full_sync_at": (datetime.now(timezone.utc) - timedelta(days=2)).isoformat(),
             "locations": {LOCATION: T0.isoformat()}}
    route = serve(api, [[review(n) for n in range(3)], [review(n) for n in range(3, 6)], [review(6)]])
    pages = fetch(stale, page_size=3)
    assert route.call_count == 3 and len(all_reviews(pages)) == 7
    assert pages[-1].complete
    assert datetime.fromisoformat(pages[-1].cursor["full_sync_at"]) > datetime.now(timezone.utc) - timedelta(minutes=1)


def test_every_location_is_read_and_a_new_one_in_full(api) -> None:
    serve(api, [[review(n) for n in range(2)], [review(n) for n in range(2, 4)]])
    first = fetch(page_size=2)
    next_poll(api)
    known = serve(api, [[review(n) for n in range(2)], [review(n) for n in range(2, 4)]])
    added = serve(api, [[review(n, location=OTHER_LOCATION, hours_ago=100 + n) for n in range(2)],
                        [review(n, location=OTHER_LOCATION, hours_ago=100 + n) for n in range(2, 4)]], OTHER_LOCATION)
    second = fetch(first[-1].cursor, page_size=2, margin="30m", location_ids=[LOCATION, f"locations/{OTHER_LOCATION}"])
    assert (known.call_count, added.call_count) == (1, 2)
    assert {r.location for r in all_reviews(second)} == {LOCATION, OTHER_LOCATION}
    marks = second[-1].cursor["locations"]
    assert marks == {LOCATION: T0.isoformat(), OTHER_LOCATION: (T0 - timedelta(hours=100)).isoformat()}
    assert not second[-1].complete  # the known location stopped early


def test_a_malformed_review_is_a_row_error_and_the_rest_lands(api) -> None:
    six_stars = review(2, stars="SIX")
    no_id = review(3)
    del no_id["reviewId"]
    bad_time = review(4)
    bad_time["updateTime"] = "yesterday"
    serve(api, [[review(1), six_stars, no_id, "nonsense", bad_time, review(5)]])
    pages = fetch()
    assert [r.external_id for r in all_reviews(pages)] == [review(1)["reviewId"], review(5)["reviewId"]]
    errors = [e for p in pages for e in p.errors]
    assert [(e.where, e.message) for e in errors] == [
        (f"location {LOCATION}, page 1, review 2", "rating must be a whole number from 1 to 5, not 'SIX'"),
        (f"location {LOCATION}, page 1, review 3", "id is missing"),
        (f"location {LOCATION}, page 1, review 4", "expected an object, got str"),
        (f"location {LOCATION}, page 1, review 5", "updateTime 'yesterday' is not an RFC 3339 time"),
    ]
    assert errors[0].raw["starRating"] == "SIX" and errors[2].raw == "nonsense"
    assert not pages[-1].complete  # an unreadable review is not a removed one


def test_a_repeated_page_token_stops_with_a_paging_error(api) -> None:
    route = serve(api, [[review(1)], [review(2)]], tokens=["page-2", "page-2"])
    pages = fetch()
    assert route.call_count == 2 and len(all_reviews(pages)) == 2
    errors = [e for p in pages for e in p.errors]
    assert [e.where for e in errors] == ["paging"] and "repeated page token 'page-2'" in errors[0].message
    assert not pages[-1].complete


def test_max_pages_is_a_ceiling(api) -> None:
    route = serve(api, [[review(n)] for n in range(5)])
    pages = fetch(max_pages=2)
    assert route.call_count == 2
    assert "stopped after 2 pages" in pages[-2].errors[0].message and not pages[-1].complete


def test_401_refreshes_the_token_once_then_succeeds(respx_mock) -> None:
    tokens = respx_mock.post(TOKEN_URL).mock(side_effect=[
        httpx.Response(200, json={"access_token": "ya29.stale", "expires_in": 3599}),
        httpx.Response(200, json={"access_token": "ya29.fresh", "expires_in": 3599}),
    ])
    respx_mock.get(BASE + reviews_path()).mock(side_effect=lambda request: httpx.Response(
        200, json=listing([review(1)])) if request.headers["Authorization"] == "Bearer ya29.fresh" else httpx.Response(401, json=error(401, "UNAUTHENTICATED", "expired")))
    assert len(all_reviews(fetch())) == 1
    form = dict(pair.split("=", 1) for pair in tokens.calls[0].request.content.decode().split("&"))
    assert form["grant_type"] == "refresh_token" and form["client_id"] == ENV["GBP_CLIENT_ID"]
    assert tokens.call_count == 2


def test_401_after_a_refresh_names_the_variables_and_leaks_no_secret(respx_mock) -> None:
    respx_mock.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "ya29.secret-token-77"}))
    respx_mock.get(BASE + reviews_path()).mock(return_value=httpx.Response(
        401, json=error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials: ya29.secret-token-77")))
    with pytest.raises(AuthError) as caught:
        fetch()
    message = str(caught.value)
    assert "even after refreshing the token" in message and "check GBP_CLIENT_ID, GBP_CLIENT_SECRET, GBP_REFRESH_TOKEN" in message
    assert all(secret not in message for secret in ["ya29.secret-token-77", ENV["GBP_CLIENT_SECRET"], ENV["GBP_REFRESH_TOKEN"]])


@pytest.mark.parametrize("first", [
    httpx.Response(429, headers={"Retry-After": "1"}, json=error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")),
    httpx.Response(429, json=error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")),
])
def test_429_with_and_without_retry_after_then_success(api, first) -> None:
    route = api.get(BASE + reviews_path()).mock(side_effect=[first, httpx.Response(429), httpx.Response(200, json=listing([review(1)]))])
    assert len(all_reviews(fetch())) == 1 and route.call_count == 3


def test_a_burst_of_server_errors_then_success(api) -> None:
    route = api.get(BASE + reviews_path()).mock(side_effect=[
        httpx.Response(503), httpx.Response(500, json=error(500, "INTERNAL", "oops")), httpx.Response(200, json=listing([review(1)]))])
    assert len(all_reviews(fetch())) == 1 and route.call_count == 3


def test_a_quota_of_zero_means_the_project_is_not_approved(api) -> None:
    route = api.get(BASE + reviews_path()).mock(return_value=httpx.Response(429, json=quota_zero()))
    with pytest.raises(NotAuthorised, match="not approved for API access yet.*Basic API Access.*RESOURCE_EXHAUSTED"):
        fetch()
    assert route.call_count == 1


def test_403_is_not_authorised_with_googles_reason(api) -> None:
    api.get(BASE + reviews_path()).mock(return_value=httpx.Response(
        403, json=error(403, "PERMISSION_DENIED", "The caller does not have permission")))
    with pytest.raises(NotAuthorised, match="PERMISSION_DENIED: 403: The caller does not have permission"):
        fetch()


def test_an_unknown_location_names_itself(api) -> None:
    api.get(BASE + reviews_path()).mock(return_value=httpx.Response(404, json=error(404, "NOT_FOUND", "Requested entity was not found.")))
    with pytest.raises(ConnectorError, match=f"no location {LOCATION} under account {ACCOUNT}.*NOT_FOUND"):
        fetch()


@pytest.mark.parametrize(("response", "message"), [
    (httpx.Response(200, text="<html>Sign in</html>"), "did not answer with JSON"),
    (httpx.Response(200, json=["not", "an", "object"]), "no JSON object"),
    (httpx.Response(200, json={"reviews": {"oops": 1}}), "'reviews' on page 1 .* is not a list"),
])
def test_malformed_answers_are_bad_responses(api, response, message) -> None:
    api.get(BASE + reviews_path()).mock(return_value=response)
    with pytest.raises(BadResponse, match=message):
        fetch()


def test_a_missing_variable_fails_at_construction(monkeypatch) -> None:
    monkeypatch.delenv("GBP_REFRESH_TOKEN")
    with pytest.raises(MissingCredential, match="GBP_REFRESH_TOKEN is not set.*sources.refresh_token_env"):
        run(lambda connector: asyncio.sleep(0))


def test_options_accept_resource_names_and_refuse_mistakes() -> None:
    parsed = options(account_id="accounts/42", location_ids=["accounts/42/locations/7", "8"])
    assert (parsed.account_id, parsed.location_ids) == ("42", ["7", "8"])
    assert parsed.full_sync_every == timedelta(days=1) and parsed.margin == timedelta(hours=1)
    for bad in ({"location_ids": []}, {"location_ids": ["7", "locations/7"]}, {"page_size": 51},
                {"account_id": "42/../x"}, {"client_id_env": "not a name"}, {"api_key": "x"}):
        with pytest.raises(ValueError):
            options(**bad)


def target(record: dict) -> ReplyTarget:
    return ReplyTarget(record["reviewId"], None, record, LOCATION)


def test_a_reply_is_put_on_the_review(api) -> None:
    record = review(1, stars=1)
    route = api.put(BASE + reply_path(record)).mock(return_value=httpx.Response(200, json=review_reply("Sorry — please call us.", state="PENDING")))
    posted = run(lambda connector: connector.post_reply(target(record), "Sorry — please call us."))
    request = route.calls[0].request
    assert request.method == "PUT" and json.loads(request.content) == {"comment": "Sorry — please call us."}
    assert request.headers["Authorization"] == "Bearer ya29.access-1"
    assert posted.posted_at == T0 + timedelta(days=1) and posted.state == "PENDING" and posted.text == "Sorry — please call us."
    assert posted.reply_id == record["name"] + "/reply"


def test_posting_again_after_a_crash_just_puts_again(api) -> None:
    record = review(1, stars=2)
    route = api.put(BASE + reply_path(record)).mock(return_value=httpx.Response(200, json=review_reply("Thanks.")))
    run(lambda connector: connector.post_reply(target(record), "Thanks."))
    run(lambda connector: connector.post_reply(target(record), "Thanks."))
    assert route.call_count == 2 and GoogleBusinessConnector.capabilities.reply_upsert
    assert [json.loads(c.request.content) for c in route.calls] == [{"comment": "Thanks."}] * 2


def test_a_refused_reply_carries_googles_reason(api) -> None:
    record = review(1)
    api.put(BASE + reply_path(record)).mock(return_value=httpx.Response(
        400, json=error(400, "FAILED_PRECONDITION", "Location is not verified.")))
    with pytest.raises(ReplyRejected, match=r"refused the reply \(400\): FAILED_PRECONDITION: 400: Location is not verified."):
        run(lambda connector: connector.post_reply(target(record), "Thanks."))


def test_a_reply_over_4096_bytes_is_refused_before_sending(api) -> None:
    record = review(1)
    route = api.put(BASE + reply_path(record)).mock(return_value=httpx.Response(200, json=review_reply("x")))
    with pytest.raises(ReplyRejected, match="4098 UTF-8 bytes"):
        run(lambda connector: connector.post_reply(target(record), "é" * 2049))
    assert route.call_count == 0


def test_a_reply_to_a_record_without_a_usable_name_is_refused(api) -> None:
    record = review(1) | {"name": "accounts/1/locations/../reviews/x"}
    with pytest.raises(ConnectorError, match="no Google resource name"):
        run(lambda connector: connector.post_reply(target(record), "Thanks."))


def test_a_review_without_name_gets_one_for_replies(api) -> None:
    record = review(1)
    del record["name"]
    serve(api, [[record]])
    (stored,) = all_reviews(fetch())
    assert stored.raw["name"] == review(1)["name"]


def test_delete_reply_deletes_and_tolerates_a_missing_one(api) -> None:
    record = review(1)
    route = api.delete(BASE + reply_path(record)).mock(side_effect=[
        httpx.Response(200, json={}), httpx.Response(404, json=error(404, "NOT_FOUND", "gone"))])
    run(lambda connector: connector.delete_reply(target(record)))
    run(lambda connector: connector.delete_reply(target(record)))
    assert route.call_count == 2 and route.calls[0].request.method == "DELETE"


# --- the 2026 additions to the Review resource (issue 18) --------------------------------

def test_the_review_reply_url_is_the_reviews_link(api) -> None:
    link = "https://business.google.com/reviews/l/2233445566?review=AbFvOq5566r0001"
    serve(api, [[review(1, reply_url=link), review(2)]])
    linked, unlinked = all_reviews(fetch())
    assert linked.url == link and unlinked.url is None


@pytest.mark.parametrize("field", ["reviewReplyState", "state"])
def test_the_replys_moderation_state_is_read(api, field) -> None:
    serve(api, [[review(1, reply="Thank you!", reply_state="REJECTED", state_field=field), review(2, reply="Thanks."),
                 review(3)]])
    rejected, unknown, unanswered = all_reviews(fetch())
    assert (rejected.owner_reply, rejected.owner_reply_state) == ("Thank you!", "REJECTED")
    assert (unknown.owner_reply, unknown.owner_reply_state) == ("Thanks.", None)
    assert (unanswered.owner_reply, unanswered.owner_reply_state) == (None, None)


def test_the_moderation_state_in_the_answer_to_a_reply_is_kept(api) -> None:
    record = review(1, stars=1)
    body = review_reply("Sorry — please call us.")
    body["reviewReplyState"] = "PENDING"
    api.put(BASE + reply_path(record)).mock(return_value=httpx.Response(200, json=body))
    posted = run(lambda connector: connector.post_reply(target(record), "Sorry — please call us."))
    assert posted.state == "PENDING"
