"""The Google Play connector against respx-mocked responses in the documented shape."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import jwt
import pytest
import respx
from pydantic import ValidationError

from connectors.base import ReplyTarget
from connectors.errors import AuthError, BadResponse, NotAuthorised, ReplyRejected
from connectors.googleplay import GooglePlayConnector, GooglePlayOptions
from connectors.http import Http, make_client
from tests.googleplay_api import (
    APP_PATH,
    BASE,
    PACKAGE,
    T0,
    TOKEN_URL,
    google_error,
    listing,
    reply_result,
    review,
    review_id,
    service_account_file,
    token_answer,
)

REVIEWS = BASE + APP_PATH + "/reviews"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return service_account_file(tmp_path)


@pytest.fixture
def token_route():
    with respx.mock:
        yield respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_answer()))


def options(key_file: Path, **extra) -> GooglePlayOptions:
    return GooglePlayOptions(package_name=PACKAGE, service_account_file=key_file, base_url=BASE, **extra)


def fetch(key_file: Path, cursor=None, **extra):
    async def run():
        async with make_client() as client:
            connector = GooglePlayConnector(options(key_file, **extra), http=Http(client))
            return [page async for page in connector.fetch(cursor)]

    return asyncio.run(run())


def reply(key_file: Path, text: str, external_id: str = review_id(7)):
    async def run():
        async with make_client() as client:
            connector = GooglePlayConnector(options(key_file), http=Http(client))
            return await connector.post_reply(ReplyTarget(external_id, None, {}), text)

    return asyncio.run(run())


def serve(pages: dict[str | None, dict]) -> respx.Route:
    """The reviews list, answering by the `token` parameter (None: the first page)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("token")])

    return respx.get(REVIEWS).mock(side_effect=answer)


def half_hourly(first: int, last: int) -> list[dict]:
    """Reviews first..last, one every half hour going back from T0."""
    return [review(n, minutes_ago=30 * n) for n in range(first, last + 1)]


def three_pages() -> dict[str | None, dict]:
    return {None: listing(half_hourly(1, 10), "p2"), "p2": listing(half_hourly(11, 20), "p3"), "p3": listing(half_hourly(21, 25))}


def tokens_asked(route: respx.Route) -> list[str | None]:
    return [call.request.url.params.get("token") for call in route.calls]


# --- reading -----------------------------------------------------------------------------


def test_reads_every_page_until_no_next_token(key_file, token_route) -> None:
    route = serve(three_pages())
    pages = fetch(key_file)
    assert tokens_asked(route) == [None, "p2", "p3"]
    assert [len(p.reviews) for p in pages] == [10, 10, 5] and not any(p.errors for p in pages)
    assert all(p.cursor is None for p in pages[:-1])
    last_cursor = pages[-1].cursor
    assert last_cursor["latest"] == "2026-11-20T11:30:00+00:00" and "full_sync_at" in last_cursor
    assert not any(p.complete for p in pages)  # only the last week is listed: never a full history
    first = route.calls[0].request
    assert first.url.params["maxResults"] == "100" and "translationLanguage" not in first.url.params
    assert first.headers["Authorization"] == "Bearer ya29.play-token" and token_route.call_count == 1


def test_a_review_is_mapped_field_by_field(key_file, token_route) -> None:
    record = review(3, text="Great food\tBut the app crashes when I pay.", rating=2, author="Ana P.", language="pt_BR",
                    reply="Sorry! Please write to us.")
    record["comments"][0]["userComment"]["lastModified"] = {"seconds": "1763640000", "nanos": 713_000_000}
    serve({None: listing([record])})
    [page] = fetch(key_file)
    [got] = page.reviews
    assert (got.external_id, got.title, got.text, got.rating, got.author) == (
        review_id(3), "Great food", "But the app crashes when I pay.", 2, "Ana P.")
    assert got.updated_at == datetime(2025, 11, 20, 12, 0, 0, 713_000, tzinfo=timezone.utc) and got.created_at is None
    assert got.language == "pt" and got.translation is None
    assert got.owner_reply == "Sorry! Please write to us."
    assert got.url == f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId=gp%3AAOqpTOH000003-x_Y"
    assert got.raw == record


def test_text_without_a_title_unicode_and_an_empty_author(key_file, token_route) -> None:
    no_author = review(2, text="Ünïcödé ✓ مرحبا 🍜 — très bon\tnot a title?")
    no_author["authorName"] = ""
    serve({None: listing([review(1, text="Just a body, no tab."), no_author])})
    [page] = fetch(key_file)
    plain, fancy = page.reviews
    assert (plain.title, plain.text) == (None, "Just a body, no tab.")
    assert (fancy.title, fancy.text, fancy.author) == ("Ünïcödé ✓ مرحبا 🍜 — très bon", "not a title?", None)


def test_rating_only_and_ratingless_records_still_land(key_file, token_route) -> None:
    # Google documents that rating-only reviews are not listed; if one ever is, keep it.
    serve({None: listing([review(1, text=""), review(2, rating=None)])})
    [page] = fetch(key_file)
    empty, unrated = page.reviews
    assert (empty.text, empty.title, empty.rating) == ("", None, 4)
    assert (unrated.text, unrated.rating) == ("Review number 2.", None)


def test_translations_keep_the_reviewers_words_as_the_text(key_file, token_route) -> None:
    translated = review(1, text="Great app\tBut slow", language="de", original="Tolle App\tAber langsam")
    route = serve({None: listing([translated, review(2, text="Already English")])})
    [page] = fetch(key_file, translation_language="en")
    german, english = page.reviews
    assert (german.title, german.text, german.translation, german.language) == ("Tolle App", "Aber langsam", "Great app\nBut slow", "de")
    assert (english.text, english.translation) == ("Already English", None)
    assert route.calls[0].request.url.params["translationLanguage"] == "en"


def test_an_empty_listing_is_one_empty_page(key_file, token_route) -> None:
    serve({None: listing([])})
    [page] = fetch(key_file)
    assert page.reviews == [] and page.errors == [] and not page.complete
    assert "latest" not in page.cursor and "full_sync_at" in page.cursor


def test_the_second_poll_stops_at_reviews_it_has_seen(key_file, token_route) -> None:
    route = serve(three_pages())
    first = fetch(key_file)
    assert route.call_count == 3
    second = fetch(key_file, first[-1].cursor)
    assert route.call_count == 4 and tokens_asked(route)[-1] is None  # page 1 reaches past the margin: stop
    assert len(second) == 1 and second[0].cursor == first[-1].cursor and not second[0].complete


def test_an_edited_review_comes_back_in_an_incremental_poll(key_file, token_route) -> None:
    route = serve(three_pages())
    cursor = fetch(key_file)[-1].cursor
    edited = review(14, text="Edited: now it works", rating=5, minutes_ago=-20)  # changed after the last poll
    route.side_effect = None
    route.return_value = httpx.Response(200, json=listing([edited, *half_hourly(1, 9)], "p2"))
    [page] = fetch(key_file, cursor)
    assert page.reviews[0].external_id == review_id(14) and page.reviews[0].text == "Edited: now it works"
    assert page.reviews[0].updated_at == T0 + timedelta(minutes=20)
    assert page.cursor["latest"] == (T0 + timedelta(minutes=20)).isoformat()


def test_a_small_margin_reads_on_until_the_known_reviews(key_file, token_route) -> None:
    route = serve(three_pages())
    known = (T0 - timedelta(minutes=30 * 15)).isoformat()  # review 15 is on page 2
    pages = fetch(key_file, {"latest": known, "full_sync_at": datetime.now(timezone.utc).isoformat()}, margin="1m")
    assert tokens_asked(route) == [None, "p2"] and pages[-1].cursor["latest"] == "2026-11-20T11:30:00+00:00"


def test_a_periodic_full_read_reads_the_whole_week_but_is_never_complete(key_file, token_route) -> None:
    route = serve(three_pages())
    stale = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    pages = fetch(key_file, {"latest": T0.isoformat(), "full_sync_at": stale}, full_sync_every="1d")
    assert route.call_count == 3 and sum(len(p.reviews) for p in pages) == 25
    assert not any(p.complete for p in pages)  # reviews leave the listing after a week: they are not removed
    assert pages[-1].cursor["full_sync_at"] > stale and pages[-1].cursor["latest"] == T0.isoformat()


def test_a_malformed_review_is_a_row_error_and_the_rest_land(key_file, token_route) -> None:
    no_id = review(2)
    del no_id["reviewId"]
    bad_rating = review(3, rating="five")
    bad_time = review(4)
    bad_time["comments"][0]["userComment"]["lastModified"] = {"seconds": "soon", "nanos": 0}
    only_reply = {"reviewId": "gp:x", "comments": [{"developerComment": {"text": "hi"}}]}
    serve({None: listing([review(1), no_id, bad_rating, bad_time, only_reply, "nonsense", review(7)])})
    [page] = fetch(key_file)
    assert [r.external_id for r in page.reviews] == [review_id(1), review_id(7)]
    assert [(e.where, e.message) for e in page.errors] == [
        ("page 1, review 2", "id is missing"),
        ("page 1, review 3", "rating must be a whole number from 1 to 5, not 'five'"),
        ("page 1, review 4", "userComment.lastModified.seconds 'soon' is not a whole number"),
        ("page 1, review 5", "comments holds no userComment"),
        ("page 1, review 6", "expected an object, got str"),
    ]
    assert page.errors[1].raw == bad_rating and page.errors[4].raw == "nonsense"


def test_a_repeated_page_token_stops_with_a_paging_error(key_file, token_route) -> None:
    route = serve({None: listing(half_hourly(1, 3), "again"), "again": listing(half_hourly(4, 6), "again")})
    pages = fetch(key_file)
    assert route.call_count == 2 and sum(len(p.reviews) for p in pages) == 6
    assert pages[-1].errors[-1].where == "paging" and "repeated page token 'again'" in pages[-1].errors[-1].message
    assert not pages[-1].complete and "full_sync_at" not in pages[-1].cursor  # not read to the end: read it all next time


def test_max_pages_is_a_ceiling(key_file, token_route) -> None:
    route = serve(three_pages())
    pages = fetch(key_file, max_pages=2)
    assert route.call_count == 2 and "max_pages" in pages[-1].errors[-1].message
    assert pages[-1].cursor["latest"] == "2026-11-20T11:30:00+00:00"


# --- HTTP trouble and credentials -------------------------------------------------------------


def test_a_401_refreshes_the_token_once_then_succeeds(key_file) -> None:
    with respx.mock:
        tokens = respx.post(TOKEN_URL).mock(side_effect=[httpx.Response(200, json=token_answer("tok-1")),
                                                         httpx.Response(200, json=token_answer("tok-2"))])
        api = respx.get(REVIEWS).mock(side_effect=lambda request: httpx.Response(
            200, json=listing([review(1)])) if request.headers["Authorization"] == "Bearer tok-2" else httpx.Response(
            401, json=google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")))
        [page] = fetch(key_file)
    assert tokens.call_count == 2 and api.call_count == 2 and len(page.reviews) == 1
    form = dict(pair.split("=", 1) for pair in tokens.calls[0].request.content.decode().split("&"))
    claims = jwt.decode(form["assertion"], options={"verify_signature": False})
    assert claims["scope"] == "https://www.googleapis.com/auth/androidpublisher" and claims["aud"] == TOKEN_URL


def test_a_401_after_the_refresh_names_the_key_file_and_leaks_nothing(key_file) -> None:
    with respx.mock:
        respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_answer("ya29.secret-token-42")))
        respx.get(REVIEWS).mock(return_value=httpx.Response(
            401, json=google_error(401, "UNAUTHENTICATED", "token ya29.secret-token-42 is not valid")))
        with pytest.raises(AuthError) as caught:
            fetch(key_file)
    message = str(caught.value)
    assert "even after refreshing the token" in message and str(key_file) in message and "service_account_file" in message
    assert "ya29.secret-token-42" not in message and "[redacted]" in message
    assert "PRIVATE KEY" not in message


def test_an_unreadable_key_file_fails_at_construction(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(AuthError, match="nowhere.json.*service_account_file"):
        GooglePlayConnector(options(missing), http=Http(None))  # never used: it fails first


def test_a_refused_key_is_an_auth_error(key_file) -> None:
    with respx.mock:
        respx.post(TOKEN_URL).mock(return_value=httpx.Response(400, json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."}))
        with pytest.raises(AuthError, match="invalid_grant: Invalid JWT Signature.*check the service-account key file"):
            fetch(key_file)


def test_429_with_and_without_retry_after_then_success(key_file, token_route) -> None:
    exhausted = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
    route = respx.get(REVIEWS).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "1"}, json=exhausted), httpx.Response(429, json=exhausted),
        httpx.Response(200, json=listing([review(1)])),
    ])
    [page] = fetch(key_file)
    assert route.call_count == 3 and len(page.reviews) == 1


def test_a_burst_of_server_errors_then_success(key_file, token_route) -> None:
    route = respx.get(REVIEWS).mock(side_effect=[httpx.Response(503), httpx.Response(500), httpx.Response(200, json=listing([review(1)]))])
    [page] = fetch(key_file)
    assert route.call_count == 3 and len(page.reviews) == 1


@pytest.mark.parametrize(("response", "message"), [
    (httpx.Response(200, text="<html>maintenance</html>"), "did not answer with JSON"),
    (httpx.Response(200, json=[1, 2]), "not a JSON object"),
    (httpx.Response(200, json={"reviews": {"reviewId": "x"}}), "'reviews' is not a list"),
    (httpx.Response(200, json={"reviews": [], "tokenPagination": {"nextPageToken": 7}}), "nextPageToken is not text"),
])
def test_an_unreadable_page_is_a_bad_response(key_file, token_route, response, message) -> None:
    respx.get(REVIEWS).mock(return_value=response)
    with pytest.raises(BadResponse, match=message):
        fetch(key_file)


def test_a_403_is_not_authorised_with_googles_reason(key_file, token_route) -> None:
    respx.get(REVIEWS).mock(return_value=httpx.Response(403, json=google_error(
        403, "PERMISSION_DENIED", "The current user has insufficient permissions to perform the requested operation.")))
    with pytest.raises(NotAuthorised, match="PERMISSION_DENIED: 403: The current user has insufficient permissions"):
        fetch(key_file)


# --- replies ---------------------------------------------------------------------------------


def reply_route() -> respx.Route:
    return respx.post(BASE + APP_PATH + f"/reviews/{review_id(7)}:reply")


def test_a_reply_is_posted_and_googles_answer_returned(key_file, token_route) -> None:
    edited = T0 + timedelta(minutes=5, microseconds=250_000)
    route = reply_route().mock(return_value=httpx.Response(200, json=reply_result("Thank you, Ana — write to us.", edited)))
    posted = reply(key_file, "Thank you, Ana — write to us.")
    request = route.calls[0].request
    assert request.method == "POST" and request.url.path == f"{APP_PATH}/reviews/{review_id(7)}:reply"
    assert json.loads(request.content) == {"replyText": "Thank you, Ana — write to us."}
    assert request.headers["Authorization"] == "Bearer ya29.play-token"
    assert (posted.text, posted.posted_at, posted.reply_id) == ("Thank you, Ana — write to us.", edited, None)
    assert GooglePlayConnector.capabilities.reply_upsert and GooglePlayConnector.capabilities.reply_limit.limit == 350


def test_a_rejected_reply_carries_googles_reason(key_file, token_route) -> None:
    reply_route().mock(return_value=httpx.Response(400, json=google_error(400, "INVALID_ARGUMENT", "Reply text is too long.")))
    with pytest.raises(ReplyRejected, match=r"refused the reply to review gp:AOqpTOH000007-x_Y \(400\): INVALID_ARGUMENT: 400: Reply text is too long"):
        reply(key_file, "x" * 400)


def test_a_reply_without_permission_is_not_authorised(key_file, token_route) -> None:
    reply_route().mock(return_value=httpx.Response(403, json=google_error(403, "PERMISSION_DENIED", "The caller does not have permission")))
    with pytest.raises(NotAuthorised, match="The caller does not have permission"):
        reply(key_file, "Thanks")


def test_posting_again_after_a_crash_simply_replaces_the_reply(key_file, token_route) -> None:
    route = reply_route().mock(side_effect=lambda request: httpx.Response(
        200, json=reply_result(json.loads(request.content)["replyText"], T0)))
    first = reply(key_file, "Thanks for the feedback.")
    second = reply(key_file, "Thanks for the feedback.")  # the crash lost the first answer; post again
    assert route.call_count == 2 and first.text == second.text == "Thanks for the feedback."


def test_a_reply_answer_without_details_still_counts_as_posted(key_file, token_route) -> None:
    reply_route().mock(return_value=httpx.Response(200, json={}))
    posted = reply(key_file, "Thanks")
    assert posted.posted_at is None and posted.text is None


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"package_name": "not a package"}, {"package_name": "nodots"}, {"translation_language": "de"}, {"max_results": 500},
    {"max_pages": 0}, {"service_account_key": "inline secrets are not options"},
])
def test_bad_options_are_refused(key_file, bad) -> None:
    with pytest.raises(ValidationError):
        GooglePlayOptions(**{"package_name": PACKAGE, "service_account_file": key_file, **bad})


def test_the_config_resolves_the_key_file_against_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors
    from service import config

    monkeypatch.setitem(connectors.available(), "googleplay", GooglePlayConnector)
    parsed = config.parse({
        "business": {"name": "Bistro", "contact": "hello@bistro.example"},
        "sources": [{"name": "play", "type": "googleplay", "package_name": PACKAGE, "service_account_file": "keys/play.json",
                     "margin": "30m"}],
    }, path=tmp_path / "config.toml")
    opts = parsed.sources[0].options
    assert opts.service_account_file == tmp_path / "keys" / "play.json" and opts.margin == timedelta(minutes=30)
