"""Replies through the real connectors, HTTP mocked at the transport from the shapes the
platforms document, the database real (issue 18): Trustpilot's client-credentials grant
and its documented delete; Google's reply moderation state, review link, and its edit
quota of 10 a minute per Business Profile, kept by pacing a batch per profile."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from service.desk import approvals, posting, queries
from service.desk.pacing import Pacer
from service.polling import poll as poll_module
from tests import google_api as gbp
from tests import trustpilot_api as tp
from tests.conftest import run_cli

NO_COOLING_OFF = '\n[replies]\ncooling_off = "0s"\n'
TP_KEY, TP_SECRET = "tp-key-0123456789", "tp-secret-abcdefgh"
TRUSTPILOT = {"name": "tp", "type": "trustpilot", "business_unit_id": tp.BUSINESS_UNIT, "api_key_env": "TP_KEY",
              "base_url": tp.BASE, "api_secret_env": "TP_SECRET", "business_user_id": tp.BUSINESS_USER}


def approved_drafts(ctx) -> list[dict]:
    assert all(result.ok for result in asyncio.run(poll_module.poll(ctx, names=None, due_only=False)))
    with ctx.session() as session:
        drafts = list(queries.draft_rows(session))
    for row in drafts:
        approvals.approve(ctx, row["id"], actor="owner")
    return drafts


def approved_draft(ctx) -> dict:
    [draft] = approved_drafts(ctx)
    return draft


def draft(ctx, draft_id: int) -> dict:
    with ctx.session() as session:
        return queries.draft(session, draft_id)


@pytest.fixture
def trustpilot(make_context, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter):
    monkeypatch.setenv("TP_KEY", TP_KEY)
    monkeypatch.setenv("TP_SECRET", TP_SECRET)
    angry = tp.review(1, stars=1, text="Arrived two weeks late and broken. Nobody answered my emails.")
    respx_mock.get(tp.BASE + tp.LISTING_PATH).mock(return_value=httpx.Response(200, json=tp.listing([angry])))
    tokens = respx_mock.post(tp.BASE + tp.TOKEN_PATH).mock(return_value=httpx.Response(200, json=tp.token("tp-access-1")))
    return make_context, tokens, respx_mock


def test_a_trustpilot_reply_is_posted_with_the_client_credentials_grant_and_withdrawn_with_delete(trustpilot) -> None:
    make_context, tokens, router = trustpilot
    ctx = make_context([TRUSTPILOT], extra=NO_COOLING_OFF)
    draft_id = approved_draft(ctx)["id"]
    reply_url = f"{tp.BASE}/v1/private/reviews/{tp.review_id(1)}/reply"
    replies = router.post(reply_url).mock(return_value=httpx.Response(201))
    deletes = router.delete(reply_url).mock(return_value=httpx.Response(204))

    [result] = asyncio.run(posting.post(ctx, [draft_id], actor="owner"))
    assert result.outcome == "posted", result.message
    assert dict(parse_qsl(tokens.calls[0].request.content.decode())) == {"grant_type": "client_credentials"}
    sent = replies.calls[0].request
    assert sent.headers["Authorization"] == "Bearer tp-access-1"
    assert json.loads(sent.content) == {"authorBusinessUserId": tp.BUSINESS_USER, "message": draft(ctx, draft_id)["text"]}

    assert asyncio.run(posting.withdraw(ctx, draft_id, actor="owner")) == "Trustpilot"
    assert deletes.call_count == 1 and deletes.calls[0].request.headers["Authorization"].startswith("Bearer ")
    row = draft(ctx, draft_id)
    assert row["status"] == "withdrawn"
    assert row["history"][-1]["action"] == "withdrawn" and row["history"][-1]["detail"] == "deleted from Trustpilot"


def test_an_old_trustpilot_config_still_posts_and_the_source_says_what_to_remove(trustpilot, tmp_path) -> None:
    make_context, tokens, router = trustpilot  # TP_REFRESH is not even set: it is no longer read
    ctx = make_context([{**TRUSTPILOT, "refresh_token_env": "TP_REFRESH"}], extra=NO_COOLING_OFF)
    draft_id = approved_draft(ctx)["id"]
    router.post(f"{tp.BASE}/v1/private/reviews/{tp.review_id(1)}/reply").mock(return_value=httpx.Response(201))
    [result] = asyncio.run(posting.post(ctx, [draft_id], actor="owner"))
    assert result.outcome == "posted", result.message
    [listed] = json.loads(run_cli(tmp_path / "config.toml", "sources", "--format", "json").output)
    [warning] = listed["warnings"]
    assert "refresh_token_env is no longer used" in warning and "remove it" in warning
    assert TP_KEY not in warning and TP_SECRET not in warning


# --- Google Business Profile -----------------------------------------------------------

GOOGLE = {"name": "gbp", "type": "google", "account_id": gbp.ACCOUNT, "location_ids": [gbp.LOCATION, gbp.OTHER_LOCATION],
          "base_url": gbp.BASE, "token_url": gbp.TOKEN_URL, "client_id_env": "GBP_CLIENT_ID",
          "client_secret_env": "GBP_CLIENT_SECRET", "refresh_token_env": "GBP_REFRESH_TOKEN"}


@pytest.fixture
def google(make_context, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter):
    for name, value in gbp.ENV.items():
        monkeypatch.setenv(name, value)
    respx_mock.post(gbp.TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "ya29.a", "expires_in": 3599}))
    return make_context, respx_mock


def list_reviews(router: respx.MockRouter, by_location: dict[str, list[dict]]) -> None:
    for location in (gbp.LOCATION, gbp.OTHER_LOCATION):
        router.get(gbp.BASE + gbp.reviews_path(location)).mock(
            return_value=httpx.Response(200, json=gbp.listing(by_location.get(location, []))))


def test_googles_moderation_of_our_reply_and_the_reviews_link_are_kept(google) -> None:
    make_context, router = google
    list_reviews(router, {gbp.LOCATION: [gbp.review(1, stars=1, comment="Cold soup and a rude waiter.")]})
    ctx = make_context([GOOGLE], extra=NO_COOLING_OFF)
    draft_id = approved_draft(ctx)["id"]
    text = draft(ctx, draft_id)["text"]
    answer = gbp.review_reply(text)
    answer["reviewReplyState"] = "PENDING"
    router.put(gbp.BASE + gbp.reply_path(gbp.review(1))).mock(return_value=httpx.Response(200, json=answer))
    [result] = asyncio.run(posting.post(ctx, [draft_id], actor="owner"))
    assert (result.outcome, draft(ctx, draft_id)["platform_state"]) == ("posted", "PENDING")

    link = "https://business.google.com/reviews/l/2233445566?review=AbFvOq5566r0001"
    moderated = gbp.review(1, stars=1, comment="Cold soup and a rude waiter.", reply=text, reply_state="REJECTED",
                           reply_url=link)
    router.routes.clear()
    router.post(gbp.TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "ya29.a", "expires_in": 3599}))
    list_reviews(router, {gbp.LOCATION: [moderated]})
    assert all(r.ok for r in asyncio.run(poll_module.poll(ctx, names=None, due_only=False)))

    with ctx.session() as session:
        [stored] = queries.review_rows(session)
    assert (stored["owner_reply"], stored["owner_reply_state"], stored["url"]) == (text, "REJECTED", link)
    row = draft(ctx, draft_id)
    assert row["status"] == "posted" and row["confirmed_at"] is not None and row["platform_state"] == "REJECTED"
    last = row["history"][-1]
    assert last["action"] == "moderated" and "REJECTED" in last["detail"]


class FakeTime:
    """A clock that moves only when the pacer sleeps: the test never waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_a_batch_of_google_replies_keeps_to_ten_edits_a_minute_per_profile(google) -> None:
    make_context, router = google
    busy = [gbp.review(n, stars=1, location=gbp.LOCATION) for n in range(12)]
    quiet = [gbp.review(n, stars=1, location=gbp.OTHER_LOCATION) for n in range(3)]
    list_reviews(router, {gbp.LOCATION: busy, gbp.OTHER_LOCATION: quiet})
    ctx = make_context([GOOGLE], extra=NO_COOLING_OFF)
    assert len(approved_drafts(ctx)) == 15
    time = FakeTime()
    puts: dict[str, list[float]] = {gbp.LOCATION: [], gbp.OTHER_LOCATION: []}

    def google_takes(request: httpx.Request) -> httpx.Response:
        location = request.url.path.split("/locations/")[1].split("/")[0]
        puts[location].append(time.now)
        return httpx.Response(200, json=gbp.review_reply(json.loads(request.content)["comment"]))

    router.put(url__regex=r"/reviews/[^/]+/reply$").mock(side_effect=google_takes)
    results = asyncio.run(posting.post(ctx, actor="owner", pacer=Pacer(clock=time.clock, sleep=time.sleep)))
    assert [r.outcome for r in results] == ["posted"] * 15
    assert len(puts[gbp.LOCATION]) == 12 and len(puts[gbp.OTHER_LOCATION]) == 3
    for times in puts.values():  # no minute of Google's clock sees more than 10 edits of one profile
        assert all(sum(1 for t in times if start <= t < start + 60) <= 10 for start in times)
    assert time.slept == [61.0]  # once, before the busy profile's 11th reply; the quiet one never waited
