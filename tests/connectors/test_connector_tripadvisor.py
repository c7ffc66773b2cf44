"""The Tripadvisor connector against respx-mocked Content API responses in the documented shape."""

from __future__ import annotations

import asyncio

import httpx
import pydantic
import pytest
import respx

from connectors.errors import AuthError, BadResponse, ConnectorError, NotAuthorised, TransientError
from connectors.http import Http, make_client
from connectors.secrets import MissingCredential
from connectors.tripadvisor import TripadvisorConnector, TripadvisorOptions
from tests.yelp_tripadvisor_api import (
    TA_BASE,
    TA_KEY,
    TA_LOCATION,
    TA_PATH,
    ta_owner_response,
    ta_review,
    ta_reviews,
)

URL = TA_BASE + TA_PATH
IP_REFUSAL = {"Message": "User is not authorized to access this resource"}


@pytest.fixture(autouse=True)
def tripadvisor_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPADVISOR_KEY", TA_KEY)


def options(**overrides) -> TripadvisorOptions:
    values = {"location_id": TA_LOCATION, "api_key_env": "TRIPADVISOR_KEY", "base_url": TA_BASE, **overrides}
    return TripadvisorOptions(**values)


def fetch(cursor=None, **overrides):
    async def run():
        async with make_client() as client:
            connector = TripadvisorConnector(options(**overrides), http=Http(client))
            return [page async for page in connector.fetch(cursor)]

    return asyncio.run(run())


def serve(*responses: httpx.Response | dict) -> respx.Route:
    answers = [r if isinstance(r, httpx.Response) else httpx.Response(200, json=r) for r in responses]
    return respx.mock.get(URL).mock(side_effect=answers)


def assert_no_key(message: str) -> None:
    assert TA_KEY not in message
    if "?" in message:  # the request URL with its query, as Http quotes it for 4xx
        assert "key=[redacted]" in message


@respx.mock
def test_reads_the_five_most_recent_reviews_in_one_request() -> None:
    answered = ta_review(1, published="2026-11-20T14:05:09Z", owner_response=ta_owner_response("Thank you for staying!"))
    older = [ta_review(n, published=f"2026-11-{20 - n}T08:00:00-05:00") for n in range(2, 6)]
    route = serve(ta_reviews([answered, *older]))
    pages = fetch()
    assert route.call_count == 1 and len(pages) == 1
    request = route.calls[0].request
    assert dict(request.url.params) == {"key": TA_KEY, "language": "en"}
    assert "Authorization" not in request.headers and TA_KEY not in str(request.headers)
    page = pages[0]
    assert page.errors == [] and page.complete is False and len(page.reviews) == 5
    first = page.reviews[0]
    assert (first.external_id, first.rating, first.title, first.text, first.author) == ("900000001", 4, "Stay 1", "Review 1 of our stay.", "traveller1")
    assert first.created_at.isoformat() == "2026-11-20T14:05:09+00:00"
    assert page.reviews[1].created_at.isoformat() == "2026-11-18T13:00:00+00:00"
    assert (first.owner_reply, first.language, first.url, first.excerpt) == ("Thank you for staying!", "en", answered["url"], False)
    assert first.location is None  # the reviewer's home town is not the business's location
    assert first.raw == answered
    assert page.cursor == {"latest": "2026-11-20T14:05:09+00:00"}


@pytest.mark.parametrize(("owner_response", "expected"), [
    (None, None),
    (ta_owner_response("We are sorry to hear that."), "We are sorry to hear that."),
    ("We are sorry to hear that.", "We are sorry to hear that."),
    ({"id": 5, "text": None}, None),
])
@respx.mock
def test_owner_responses_are_read_in_any_documented_shape(owner_response, expected) -> None:
    serve(ta_reviews([ta_review(1, owner_response=owner_response)]))
    assert fetch()[0].reviews[0].owner_reply == expected


@respx.mock
def test_the_language_asked_for_is_sent_and_each_reviews_language_kept() -> None:
    no_lang = ta_review(3)
    del no_lang["lang"]
    route = serve(ta_reviews([ta_review(1, lang="zh_TW"), ta_review(2, lang="pt-BR"), no_lang]))
    reviews = fetch(language="zh_TW")[0].reviews
    assert route.calls[0].request.url.params["language"] == "zh_TW"
    assert [r.language for r in reviews] == ["zh", "pt", "zh"]


@respx.mock
def test_no_reviews_is_an_empty_page_that_keeps_the_saved_cursor() -> None:
    serve(ta_reviews([]), ta_reviews(None))
    assert [(p.reviews, p.errors, p.cursor, p.complete) for p in fetch()] == [([], [], None, False)]
    saved = {"latest": "2026-03-01T10:00:00+00:00"}
    assert fetch(saved)[0].cursor == saved


@respx.mock
def test_every_poll_reads_afresh_so_an_edited_review_comes_back() -> None:
    before = ta_review(1, text="Lovely room.", rating=5, published="2026-11-20T14:05:09Z")
    after = ta_review(1, text="Lovely room, but the heating broke.", rating=3, published="2026-11-20T14:05:09Z")
    route = serve(ta_reviews([before]), ta_reviews([after, ta_review(2, published="2026-10-01T00:00:00Z")]))
    first = fetch()
    second = fetch(first[-1].cursor)
    assert route.call_count == 2
    edited = second[0].reviews[0]
    assert (edited.external_id, edited.text, edited.rating) == ("900000001", "Lovely room, but the heating broke.", 3)
    assert second[0].cursor == first[0].cursor == {"latest": "2026-11-20T14:05:09+00:00"}
    assert not any(p.complete for p in first + second)


@respx.mock
def test_unicode_text_and_a_rating_only_review() -> None:
    rating_only = {**ta_review(2, rating=2), "text": None, "title": None}
    serve(ta_reviews([ta_review(1, text="Très bien ✓ 東京 مرحبا 🏨", title="Ça va"), rating_only]))
    first, second = fetch()[0].reviews
    assert (first.text, first.title) == ("Très bien ✓ 東京 مرحبا 🏨", "Ça va")
    assert (second.text, second.title, second.rating) == ("", None, 2)


@respx.mock
def test_a_malformed_review_is_a_row_error_and_the_rest_land() -> None:
    no_id = {**ta_review(2), "id": None}
    bad_rating = ta_review(3, rating=7)
    bad_date = ta_review(4, published="last Tuesday")
    bad_reply = ta_review(5, owner_response=["not", "text"])
    serve(ta_reviews([ta_review(1), no_id, bad_rating, bad_date, bad_reply, 42, ta_review(7)]))
    page = fetch()[0]
    assert [r.external_id for r in page.reviews] == ["900000001", "900000007"]
    assert [(e.where, e.message) for e in page.errors] == [
        ("review 2", "id is missing"),
        ("review 3", "rating 7 is outside 1 to 5"),
        ("review 4", "published_date 'last Tuesday' is not an ISO 8601 time"),
        ("review 5", "owner_response must be text, not list"),
        ("review 6", "expected an object, got int"),
    ]
    assert page.errors[1].raw == bad_rating and page.errors[4].raw == 42


@respx.mock
def test_a_key_without_the_ip_allow_list_is_not_authorised_and_says_why() -> None:
    route = respx.mock.get(URL).mock(return_value=httpx.Response(403, json=IP_REFUSAL))
    with pytest.raises(NotAuthorised) as caught:
        fetch()
    message = str(caught.value)
    assert "User is not authorized to access this resource" in message and "IP address" in message
    assert_no_key(message)
    assert route.call_count == 1


@respx.mock
def test_a_refused_key_names_its_variable_and_is_not_shown() -> None:
    route = respx.mock.get(URL).mock(return_value=httpx.Response(401, json=IP_REFUSAL))
    with pytest.raises(AuthError) as caught:
        fetch()
    message = str(caught.value)
    assert "check the key in the environment variable TRIPADVISOR_KEY" in message and "IP allow-list" in message
    assert_no_key(message)
    assert route.call_count == 2  # a fixed key is tried once more, then refused


@respx.mock
def test_a_401_then_success() -> None:
    route = serve(httpx.Response(401, json=IP_REFUSAL), ta_reviews([ta_review(1)]))
    assert len(fetch()[0].reviews) == 1 and route.call_count == 2


@respx.mock
def test_429_with_and_without_retry_after_is_retried() -> None:
    route = serve(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(429), ta_reviews([ta_review(1)]))
    assert len(fetch()[0].reviews) == 1 and route.call_count == 3


@respx.mock
def test_a_burst_of_server_errors_is_retried() -> None:
    route = serve(httpx.Response(500), httpx.Response(503), ta_reviews([ta_review(1)]))
    assert len(fetch()[0].reviews) == 1 and route.call_count == 3


@respx.mock
def test_persistent_server_errors_are_transient_and_hide_the_key() -> None:
    respx.mock.get(URL).mock(return_value=httpx.Response(502))
    with pytest.raises(TransientError, match="server error 502") as caught:
        fetch()
    assert_no_key(str(caught.value))


@pytest.mark.parametrize(("response", "message"), [
    (httpx.Response(200, text="<html>gateway</html>"), "did not answer with JSON"),
    (httpx.Response(200, json={"error": {"message": "Something went wrong", "code": 500}}), "no 'data' list: .*Something went wrong"),
    (httpx.Response(200, json={"data": {"id": 1}}), "'data' is not a list"),
])
@respx.mock
def test_an_unreadable_answer_is_a_bad_response(response: httpx.Response, message: str) -> None:
    respx.mock.get(URL).mock(return_value=response)
    with pytest.raises(BadResponse, match=message) as caught:
        fetch()
    assert TA_KEY not in str(caught.value)


@pytest.mark.parametrize("status", [400, 404])
@respx.mock
def test_an_unknown_location_fails_with_the_platforms_reason(status: int) -> None:
    respx.mock.get(URL).mock(return_value=httpx.Response(status, json={"error": {"message": "Invalid location id", "type": "InvalidParameter"}}))
    with pytest.raises(ConnectorError, match=f"refused location {TA_LOCATION} \\({status}\\): Invalid location id") as caught:
        fetch()
    assert TA_KEY not in str(caught.value)


@respx.mock
def test_a_missing_key_variable_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIPADVISOR_KEY")
    with pytest.raises(MissingCredential, match=r"TRIPADVISOR_KEY is not set \(the config names it in sources.api_key_env\)"):
        fetch()
    assert respx.mock.calls.call_count == 0


def test_tripadvisor_is_read_only() -> None:
    assert TripadvisorConnector.capabilities.platform == "Tripadvisor" and TripadvisorConnector.capabilities.can_reply is False
    assert not hasattr(TripadvisorConnector, "post_reply")


@pytest.mark.parametrize("bad", [{"location_id": "d89575"}, {"language": "english please"}, {"key": TA_KEY},
                                 {"base_url": "ftp://x"}])
def test_options_refuse_nonsense(bad: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        options(**bad)


# --- machine translations (issue 18) ---------------------------------------------------

def _machine_translated(n: int, text: str, **fields) -> dict:
    record = ta_review(n, text=text, **fields)
    record["is_machine_translated"] = True
    return record


@respx.mock
def test_a_machine_translated_review_is_a_translation_not_the_reviewers_words() -> None:
    translated = _machine_translated(1, "The breakfast was cold.", lang="de")
    serve(ta_reviews([translated, ta_review(2)]))
    first, second = fetch()[0].reviews
    assert (first.text, first.translation, first.language) == ("", "The breakfast was cold.", "de")
    assert (first.title, first.rating, first.raw) == ("Stay 1", 4, translated)
    assert (second.text, second.translation) == ("Review 2 of our stay.", None)  # is_machine_translated: false


def test_a_machine_translated_review_is_read_in_its_translation_when_stored(make_context, respx_mock) -> None:
    """Stored, the translation is what the sentiment pass and the escalation marks read."""
    from service.desk import queries
    from service.polling import poll as poll_module

    words = "The room was filthy and the staff were rude. I got food poisoning from the breakfast."
    respx_mock.get(URL).mock(return_value=httpx.Response(200, json=ta_reviews([
        _machine_translated(1, words, lang="de", rating=3, title="Our stay"), ta_review(2, rating=5, text="Lovely stay, kind staff."),
    ])))
    ctx = make_context([{"name": "ta", "type": "tripadvisor", "location_id": TA_LOCATION,
                         "api_key_env": "TRIPADVISOR_KEY", "base_url": TA_BASE}])
    [result] = asyncio.run(poll_module.poll(ctx))
    assert result.ok, result.error
    with ctx.session() as session:
        rows = {row["external_id"]: row for row in queries.review_rows(session)}
    stored = rows["900000001"]
    assert (stored["text"], stored["translation"], stored["title"]) == ("", words, "Our stay")
    assert stored["negative"] and "translation" in stored["reason"]  # 3 stars: the text decides
    assert "illness" in (stored["escalation"] or "")
    assert rows["900000002"]["translation"] is None and not rows["900000002"]["negative"]
