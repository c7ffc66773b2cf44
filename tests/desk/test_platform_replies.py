"""Replies through the real connectors, HTTP mocked at the transport from the shapes the
platforms document, the database real: Trustpilot's client-credentials grant and its
documented delete (issue 18)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from service.desk import approvals, posting, queries
from service.polling import poll as poll_module
from tests import trustpilot_api as tp
from tests.conftest import run_cli

NO_COOLING_OFF = '\n[replies]\ncooling_off = "0s"\n'
TP_KEY, TP_SECRET = "tp-key-0123456789", "tp-secret-abcdefgh"
TRUSTPILOT = {"name": "tp", "type": "trustpilot", "business_unit_id": tp.BUSINESS_UNIT, "api_key_env": "TP_KEY",
              "base_url": tp.BASE, "api_secret_env": "TP_SECRET", "business_user_id": tp.BUSINESS_USER}


def approved_draft(ctx) -> dict:
    assert all(result.ok for result in asyncio.run(poll_module.poll(ctx)))
    with ctx.session() as session:
        [draft] = queries.draft_rows(session)
    approvals.approve(ctx, draft["id"], actor="owner")
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
