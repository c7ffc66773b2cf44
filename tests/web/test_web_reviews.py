"""The reviews pages: every stored review, filtered and paged (`/reviews`, as `reviewmon
reviews list`), and one review in full (`/reviews/{id}`, as `reviewmon reviews show`)."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from service.desk import queries, users
from service.polling import poll as poll_module
from tests import web_session
from tests.conftest import run_cli
from tests.fakeconnector import FakeSource, review

PASSWORD = "correct horse battery staple"
HOSTILE = "<script>alert('x')</script> {{ 7*7 }} Cold soup, rude waiter. Awful."


@pytest.fixture
def shop(make_context, fake_type, tmp_path):
    now = datetime.now(timezone.utc)
    FakeSource("shop").page(
        review("hostile", HOSTILE, 1, author="<b>Eve</b>", url="javascript:alert(1)", created_at=now - timedelta(days=5)),
        review("praise", "Lovely chowder, friendly people!", 5, author="Ann", url="https://shop.example/r/2",
               created_at=now - timedelta(days=4)),
        review("percent", "They charged 100% more for COLD coffee. Awful.", 2, author="Bo", created_at=now - timedelta(days=3)),
        review("meh", "It was fine.", 3, author="=HYPERLINK(\"http://evil.example\")", location="Old Town",
               created_at=now - timedelta(days=2)),
        cursor={"n": 1},
    )
    FakeSource("cafe").page(review("latte", "Best latte in town.", 5, author="Di", created_at=now - timedelta(days=1)),
                            cursor={"n": 1})
    ctx = make_context([{"name": "shop", "type": "fake", "script": "shop"},
                        {"name": "cafe", "type": "fake", "script": "cafe"}])
    asyncio.run(poll_module.poll(ctx))
    users.add_user(ctx, "mia", "marketer", PASSWORD)
    with ctx.session() as session:
        ids = {row["external_id"]: row["id"] for row in queries.review_rows(session)}
    return ctx, ids, tmp_path / "config.toml"


def logged_in(ctx):
    """A client logged in as a marketer: reading reviews is every role's right."""
    return web_session.logged_in(ctx, "mia", PASSWORD)


def shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/reviews/(\d+)"', page)]


@pytest.mark.anyio
async def test_every_review_is_listed_newest_first_and_filters_narrow_it(shop) -> None:
    ctx, ids, _ = shop
    async with logged_in(ctx) as (client, _):
        page = (await client.get("/reviews")).text
        assert shown(page) == [ids[k] for k in ("latte", "meh", "percent", "praise", "hostile")]  # praise too, unlike the inbox

        async def only(**params) -> list[int]:
            return shown((await client.get("/reviews", params=params)).text)

        assert await only(flag="negative") == [ids["percent"], ids["hostile"]]
        assert await only(flag="not negative", source="shop") == [ids["meh"], ids["praise"]]
        assert await only(rating="5") == [ids["latte"], ids["praise"]]
        assert await only(location="Old Town") == [ids["meh"]]
        assert await only(q="cold") == [ids["percent"], ids["hostile"]]  # any case, title or text
        assert await only(q="awful COLD") == [ids["percent"], ids["hostile"]]  # each word, in any order
        assert await only(q="cold waiter") == [ids["hostile"]]
        assert await only(q="100%") == [ids["percent"]]  # % is a character, not a wildcard
        assert await only(q="{{ 7*7 }}") == [ids["hostile"]]
        last_two_days = (datetime.now(timezone.utc) - timedelta(days=2)).date().isoformat()
        assert await only(since=last_two_days) == [ids["latte"], ids["meh"]]
        bad_date = await client.get("/reviews", params={"since": "yesterday"})
        assert bad_date.status_code == 200 and "is not a date" in html.unescape(bad_date.text)


@pytest.mark.anyio
async def test_pages_follow_each_other(shop) -> None:
    ctx, ids, _ = shop
    async with logged_in(ctx) as (client, _):
        first = (await client.get("/reviews", params={"limit": 2})).text
        assert shown(first) == [ids["latte"], ids["meh"]]
        older = html.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
        second = (await client.get(older)).text
        assert shown(second) == [ids["percent"], ids["praise"]] and 'rel="prev"' in second
        third = (await client.get(html.unescape(re.search(r'href="([^"]+)" rel="next"', second).group(1)))).text
        assert shown(third) == [ids["hostile"]] and 'rel="next"' not in third


@pytest.mark.anyio
async def test_a_review_in_full_escaped_with_its_verdict_and_draft(shop) -> None:
    ctx, ids, _ = shop
    async with logged_in(ctx) as (client, _):
        hostile = await client.get(f"/reviews/{ids['hostile']}")
        assert hostile.status_code == 200
        assert "<script>alert('x')</script>" not in hostile.text and "<b>Eve</b>" not in hostile.text
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; {{ 7*7 }}" in hostile.text  # shown as written, never run
        assert "javascript:alert(1)" not in hostile.text  # not a web address: no link
        assert "Why it is flagged" in hostile.text and "rating 1 of 5" in hostile.text
        with ctx.session() as session:
            draft_id = queries.review(session, ids["hostile"])["draft_id"]
        assert draft_id and f'href="/drafts/{draft_id}"' in hostile.text

        praise = (await client.get(f"/reviews/{ids['praise']}")).text
        assert "Why it is not flagged" in praise and "not negative" in praise and 'href="/drafts/' not in praise
        assert 'href="https://shop.example/r/2"' in praise

        assert (await client.get("/reviews/999999")).status_code == 404
    async with web_session.client_for(ctx) as anonymous:
        assert (await anonymous.get("/reviews")).status_code in (302, 303)


def test_the_cli_filters_the_same_way(shop) -> None:
    _, ids, config = shop

    def listed(*args: str) -> list[int]:
        result = run_cli(config, "reviews", "list", "--format", "json", *args)
        assert result.exit_code == 0, result.output
        return [row["id"] for row in json.loads(result.output)]

    assert listed("--search", "COLD") == [ids["percent"], ids["hostile"]]
    assert listed("--search", "100%") == [ids["percent"]]
    assert listed("--rating", "5", "--source", "shop") == [ids["praise"]]
    assert listed("--location", "Old Town") == [ids["meh"]]
    shown_in_full = run_cli(config, "reviews", "show", str(ids["hostile"])).output
    assert "draft_id:" in shown_in_full and "rating 1 of 5" in shown_in_full


@pytest.mark.anyio
async def test_the_dashboard_leads_to_the_reviews_behind_its_figures(shop) -> None:
    ctx, ids, _ = shop
    async with logged_in(ctx) as (client, _):
        last_week = (datetime.now(timezone.utc) - timedelta(days=7)).date().isoformat()
        dashboard = (await client.get("/trends", params={"from": last_week, "source": "shop", "bucket": "day"})).text
        link = html.unescape(re.search(r'href="(/reviews\?[^"]+)">Read these reviews', dashboard).group(1))
        assert f"since={last_week}" in link and "source=shop" in link
        assert shown((await client.get(link)).text) == [ids[k] for k in ("meh", "percent", "praise", "hostile")]


@pytest.mark.anyio
async def test_the_csv_export_holds_every_review_the_filters_find_and_is_safe_in_a_spreadsheet(shop, monkeypatch) -> None:
    from service.web import downloads

    monkeypatch.setattr(downloads, "CHUNK_ROWS", 2)  # several chunks from five reviews
    ctx, ids, _ = shop
    async with logged_in(ctx) as (client, _):
        page = (await client.get("/reviews", params={"source": "shop", "limit": 25})).text
        export_url = html.unescape(re.search(r'href="(/reviews\.csv[^"]*)" download', page).group(1))
        assert export_url == "/reviews.csv?source=shop"  # the page's filters, not its paging
        response = await client.get(export_url)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [int(r["id"]) for r in rows] == [ids[k] for k in ("meh", "percent", "praise", "hostile")]  # every page
        by_id = {int(r["id"]): r for r in rows}
        assert by_id[ids["meh"]]["author"] == "'=HYPERLINK(\"http://evil.example\")"  # shown, never run as a formula
        assert by_id[ids["hostile"]]["text"] == HOSTILE and by_id[ids["hostile"]]["negative"] == "true"
        assert float(by_id[ids["praise"]]["sentiment"]) > 0 and by_id[ids["hostile"]]["escalation"] == ""
        only_negative = list(csv.DictReader(io.StringIO((await client.get("/reviews.csv", params={"flag": "negative"})).text)))
        assert [int(r["id"]) for r in only_negative] == [ids["percent"], ids["hostile"]]
