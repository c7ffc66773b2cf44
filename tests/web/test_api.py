"""The JSON API (/api/v1) as a program uses it: each route with an owner's and a
marketer's token, the same answers as the CLI's JSON, the rules of the desk (the guard,
the roles, escalation, cooling-off, a second approver) and paging to the end of a list.
Driven over HTTP against the real app and the real database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from service.desk import approvals, queries
from service.models import Review
from service.polling import poll as poll_module
from tests.api_shop import BAD, GOOD, NEGATIVE_REVIEWS, Shop, follow, open_shop
from tests.conftest import run_cli

# What the README promises scripts ("JSON output"), and so the API's items.
REVIEW_KEYS = {"id", "source", "external_id", "rating", "title", "text", "author", "created_at", "updated_at", "sentiment",
               "negative", "revisions", "location", "url", "owner_reply", "reason", "language"}
DRAFT_KEYS = {"id", "review_id", "source", "external_id", "status", "text", "policy_ok", "policy_problems", "template",
              "created_at", "updated_at", "edited_by"}


@pytest.fixture
def shop(make_context, fake_type) -> Shop:
    return open_shop(make_context)


def cli_json(shop: Shop, *args: str):
    result = run_cli(shop.ctx.config.path, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def history(shop: Shop, external_id: str) -> list[tuple[str, str]]:
    return [(event["actor"], event["action"]) for event in shop.draft(external_id)["history"]]


# --- reading, with either role ------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("token", ["owner-bot", "reader-bot"])
async def test_every_read_route_answers_either_role_as_the_cli_does(shop: Shop, token: str) -> None:
    headers = shop.auth(token)
    review_id, draft_id = shop.draft("poison")["review_id"], shop.drafts["poison"]
    async with shop.client() as client:
        reviews = (await client.get("/api/v1/reviews?negative=true&limit=200", headers=headers)).json()
        assert reviews["next"] is None and REVIEW_KEYS <= set(reviews["items"][0])
        assert reviews["items"] == cli_json(shop, "reviews", "list", "--negative", "--format", "json")
        one = await client.get(f"/api/v1/reviews/{review_id}", headers=headers)
        assert one.status_code == 200 and one.json() == cli_json(shop, "reviews", "show", str(review_id), "--format", "json")[0]
        assert one.json()["escalation"] and one.json()["draft_id"] == draft_id

        drafts = (await client.get("/api/v1/drafts?limit=200", headers=headers)).json()
        assert drafts["items"] == cli_json(shop, "drafts", "list", "--format", "json")
        assert DRAFT_KEYS <= set(drafts["items"][0]) and len(drafts["items"]) == NEGATIVE_REVIEWS + 1
        draft = (await client.get(f"/api/v1/drafts/{draft_id}", headers=headers)).json()
        shown = cli_json(shop, "drafts", "show", str(draft_id), "--format", "json")[0]
        assert {k: draft[k] for k in shown} == shown and draft["history"][0]["actor"] == "reviewmon"

        query = "from=2026-01-01&to=2026-12-31&bucket=month&location=Old%20Town"
        trends = await client.get(f"/api/v1/trends?{query}", headers=headers)
        assert trends.status_code == 200
        assert trends.json() == cli_json(shop, "trends", "--from", "2026-01-01", "--to", "2026-12-31", "--bucket", "month",
                                         "--location", "Old Town", "--format", "json")
        default = (await client.get("/api/v1/trends", headers=headers)).json()
        assert default["period"]["bucket"] == "week" and default["period"]["end"] == datetime.now(timezone.utc).date().isoformat()

        sources = (await client.get("/api/v1/sources", headers=headers)).json()
        assert [s["name"] for s in sources["items"]] == ["fb"] and sources["next"] is None
        assert sources["items"][0]["reviews"] == NEGATIVE_REVIEWS + 2 and sources["items"][0]["status"] == "ok"


@pytest.mark.anyio
async def test_the_filters_of_the_cli_narrow_the_lists(shop: Shop) -> None:
    headers = shop.auth("reader-bot")
    async with shop.client() as client:
        async def ids(url: str) -> list:
            response = await client.get(url, headers=headers)
            assert response.status_code == 200, response.text
            return [item["external_id"] for item in response.json()["items"]]

        assert await ids("/api/v1/reviews?negative=false") == ["praise"]
        assert await ids("/api/v1/reviews?search=POISONING") == ["poison"]
        assert await ids("/api/v1/reviews?rating=2") == ["poison"]
        old_town = await ids("/api/v1/reviews?location=Old%20Town&limit=200")
        assert len(old_town) == (NEGATIVE_REVIEWS - 1) // 2 and all(int(i[1:]) % 2 for i in old_town)
        assert await ids("/api/v1/reviews?source=elsewhere") == []
        assert await ids("/api/v1/drafts?status=approved") == []
        approvals.approve(shop.ctx, shop.drafts["n03"], actor="olive")
        assert await ids("/api/v1/drafts?status=approved&source=fb") == ["n03"]
        for wrong in ("/api/v1/reviews?rating=6", "/api/v1/drafts?status=lost", "/api/v1/trends?bucket=year",
                      "/api/v1/trends?from=yesterday", "/api/v1/trends?from=2026-05-02&to=2026-05-01",
                      "/api/v1/reviews?limit=0", "/api/v1/reviews?limit=201"):
            response = await client.get(wrong, headers=headers)
            assert response.status_code == 400 and response.json()["error"], wrong
        missing = await client.get("/api/v1/trends?source=elsewhere", headers=headers)
        assert missing.status_code == 404 and "elsewhere" in missing.json()["error"]
        for gone in ("/api/v1/reviews/999999", "/api/v1/drafts/999999", f"/api/v1/drafts/{2**70}", "/api/v1/reviews/0"):
            response = await client.get(gone, headers=headers)
            assert response.status_code == 404 and response.json()["error"].startswith("no "), gone


# --- acting -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_marketers_token_reads_but_may_not_act(shop: Shop) -> None:
    headers = shop.auth("reader-bot")
    draft_id = shop.drafts["n01"]
    before = shop.draft("n01")
    async with shop.client() as client:
        for method, path, body in (("PUT", "", {"text": GOOD}), ("POST", "/approve", None), ("POST", "/reject", {"reason": "no"})):
            response = await client.request(method, f"/api/v1/drafts/{draft_id}{path}", headers=headers, json=body)
            assert response.status_code == 403, (path, response.text)
            assert "token:reader-bot (marketer) may not" in response.json()["error"]
    assert shop.draft("n01") == before  # nothing changed, nothing added to the history


@pytest.mark.anyio
async def test_an_owners_token_edits_approves_and_rejects_under_its_own_name(shop: Shop) -> None:
    headers = shop.auth("owner-bot")
    draft_id = shop.drafts["poison"]  # escalated: only an owner may act, and this token is an owner's
    async with shop.client() as client:
        edited = await client.put(f"/api/v1/drafts/{draft_id}", headers=headers, json={"text": GOOD})
        assert edited.status_code == 200 and edited.json()["text"] == GOOD and edited.json()["edited_by"] == "token:owner-bot"
        approved = await client.post(f"/api/v1/drafts/{draft_id}/approve", headers=headers, json={"seen_text": GOOD})
        assert approved.status_code == 200, approved.text
        draft = approved.json()
        assert draft["status"] == "approved" and draft["approved_by"] == "token:owner-bot"
        with shop.ctx.session() as session:  # cooling-off: posted no sooner than 3 h after the review arrived
            arrived = session.get(Review, draft["review_id"]).first_seen_at
        assert datetime.fromisoformat(draft["post_after"]) == arrived + timedelta(hours=3)
        again = await client.post(f"/api/v1/drafts/{draft_id}/approve", headers=headers)
        assert again.status_code == 409 and "approved" in again.json()["error"]

        stale = await client.post(f"/api/v1/drafts/{shop.drafts['n02']}/approve", headers=headers, json={"seen_text": "old"})
        assert stale.status_code == 409 and "changed" in stale.json()["error"]
        rejected = await client.post(f"/api/v1/drafts/{shop.drafts['n02']}/reject", headers=headers, json={"reason": "spam"})
        assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
        plain = await client.post(f"/api/v1/drafts/{shop.drafts['n04']}/reject", headers=headers)  # no body at all
        assert plain.status_code == 200 and plain.json()["status"] == "rejected"
    assert history(shop, "poison")[1:] == [("token:owner-bot", "edited"), ("token:owner-bot", "approved")]
    assert shop.draft("n02")["history"][-1] | {"at": None} == {
        "at": None, "actor": "token:owner-bot", "action": "rejected", "status": "rejected", "detail": "spam",
        "what": "rejected the reply"}
    shown = run_cli(shop.ctx.config.path, "drafts", "show", str(draft_id)).output
    assert "token:owner-bot approved the reply" in shown  # the CLI's history names the token too


@pytest.fixture
def two_eyes_shop(make_context, fake_type) -> Shop:
    return open_shop(make_context, extra='\n[replies]\nsecond_approver = true\n')


@pytest.mark.anyio
async def test_a_second_pair_of_eyes_means_another_than_the_token_that_edited(two_eyes_shop: Shop) -> None:
    shop = two_eyes_shop
    headers = shop.auth("owner-bot")
    draft_id = shop.drafts["n05"]
    async with shop.client() as client:
        assert (await client.put(f"/api/v1/drafts/{draft_id}", headers=headers, json={"text": GOOD})).status_code == 200
        refused = await client.post(f"/api/v1/drafts/{draft_id}/approve", headers=headers)
        assert refused.status_code == 403 and "another person must approve" in refused.json()["error"]
        approvals.approve(shop.ctx, draft_id, actor="olive")  # a person does
        assert (await client.get(f"/api/v1/drafts/{draft_id}", headers=headers)).json()["approved_by"] == "olive"


@pytest.mark.anyio
async def test_a_text_the_guard_refuses_is_saved_and_answered_422_with_the_reasons(shop: Shop) -> None:
    headers = shop.auth("owner-bot")
    draft_id = shop.drafts["n06"]
    async with shop.client() as client:
        put = await client.put(f"/api/v1/drafts/{draft_id}", headers=headers, json={"text": BAD})
        assert put.status_code == 422
        body = put.json()
        guard = approvals.check_text(shop.ctx, BAD, source_name="fb", source_type="fakereply")
        assert body["saved"] is True and body["problems"] == guard.problems and not guard.ok
        assert body["draft"]["text"] == BAD and body["draft"]["policy_ok"] is False
        assert body["draft"]["policy_problems"] == body["problems"]
        # saved as the CLI saves it: the same text, reasons and history as `drafts edit` would leave
        assert shop.draft("n06")["text"] == BAD and shop.draft("n06")["status"] == "drafted"
        detail = shop.draft("n06")["history"][-1]["detail"]
        assert shop.draft("n06")["history"][-1]["action"] == "edited" and detail.startswith("fails the policy guard")

        refused = await client.post(f"/api/v1/drafts/{draft_id}/approve", headers=headers)
        assert refused.status_code == 422 and refused.json()["problems"] == body["problems"]
        assert history(shop, "n06")[-1] == ("token:owner-bot", "approval refused")
        assert shop.draft("n06")["status"] == "drafted"

        huge = await client.put(f"/api/v1/drafts/{draft_id}", headers=headers, json={"text": "Sorry. " * 4000})
        assert huge.status_code == 422 and huge.json()["saved"] is False and "limited to" in huge.json()["error"]
        assert shop.draft("n06")["text"] == BAD  # too long to keep: nothing saved
        for wrong in ({}, {"text": 5}, "not json"):
            sent = {"content": wrong} if isinstance(wrong, str) else {"json": wrong}
            response = await client.put(f"/api/v1/drafts/{draft_id}", headers=headers, **sent)
            assert response.status_code == 400 and "body" in response.json()["error"], wrong


# --- paging ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_following_next_reads_every_row_once_in_order(shop: Shop) -> None:
    headers = shop.auth("reader-bot")
    with shop.ctx.session() as session:
        every_review = [row["id"] for row in queries.review_rows(session)]
        every_draft = [row["id"] for row in queries.draft_rows(session)]
    async with shop.client() as client:
        for limit in (1, 4, 7, len(every_review), 200):
            items, pages = await follow(client, f"/api/v1/reviews?limit={limit}", headers)
            assert [item["id"] for item in items] == every_review, limit
            assert pages == max(1, -(-len(every_review) // limit))
        items, _ = await follow(client, "/api/v1/drafts?limit=3", headers)  # drafts made in one poll share a time
        assert [item["id"] for item in items] == every_draft
        negative, _ = await follow(client, "/api/v1/reviews?negative=true&location=Harbour&limit=2", headers)
        assert negative and all(item["negative"] and item["location"] == "Harbour" for item in negative)
        assert len({item["id"] for item in negative}) == len(negative)
        sources, pages = await follow(client, "/api/v1/sources?limit=1", headers)
        assert [s["name"] for s in sources] == ["fb"] and pages == 1


@pytest.mark.anyio
async def test_reviews_arriving_while_a_program_pages_neither_repeat_nor_hide_rows(shop: Shop) -> None:
    from tests.fakeconnector import FakeSource, review

    headers = shop.auth("reader-bot")
    with shop.ctx.session() as session:
        before = [row["id"] for row in queries.review_rows(session)]
    async with shop.client() as client:
        first = (await client.get("/api/v1/reviews?limit=5", headers=headers)).json()
        now = datetime.now(timezone.utc)
        FakeSource("fb").page(*(review(f"late{i}", "Awful, cold and slow.", 1, created_at=now) for i in range(6)), cursor={"n": 2})
        await poll_module.poll(shop.ctx)  # between two pages
        rest, _ = await follow(client, first["next"], headers)
    assert [item["id"] for item in first["items"] + rest] == before  # newer reviews sit before the cursor


@pytest.mark.anyio
async def test_a_cursor_that_is_not_a_pages_is_400(shop: Shop) -> None:
    import base64

    headers = shop.auth("reader-bot")

    def b64(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    async with shop.client() as client:
        drafts_page = (await client.get("/api/v1/drafts?limit=1", headers=headers)).json()
        drafts_cursor = drafts_page["next"].split("cursor=")[1]
        for cursor in ("abc", "%%%", b64("not json"), b64('{"list": "reviews"}'), b64('{"list": "reviews", "after": 5}'),
                       b64('{"list": "reviews", "after": ["yesterday", 3]}'),
                       b64('{"list": "reviews", "after": ["2026-01-01T00:00:00", 3]}'), drafts_cursor):
            response = await client.get(f"/api/v1/reviews?cursor={cursor}", headers=headers)
            assert response.status_code == 400 and "cursor" in response.json()["error"], cursor
        assert (await client.get(f"/api/v1/sources?cursor={drafts_cursor}", headers=headers)).status_code == 400
