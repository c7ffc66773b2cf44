"""The inbox's suspicious view in the web app (issue 19): a five-star spam review reaches the
owner with the platform's link for reporting it; the review's words stay text."""

from __future__ import annotations

import asyncio
import html
import re

import pytest
from sqlmodel import update

from service.desk import tokens, users
from service.models import Review
from service.polling import poll as poll_module
from tests import web_session
from tests.conftest import write_jsonl

PASSWORD = "correct horse battery staple"
CRYPTO = "Great place!!! Earn 500% with bitcoin at http://crypto.example"
SCRIPT = "<script>alert('owned')</script> Best dinner ever, visit now for a promo code"
ROWS = [
    {"id": "crypto", "text": CRYPTO, "rating": 5, "author": "Coin Guy", "created_at": "2026-11-05T10:00:00+00:00",
     "url": "https://maps.example/reviews/crypto"},
    {"id": "angry-spam", "text": "Terrible food, cold and stale. Cheap deals on followers, message me on whatsapp.",
     "rating": 1, "author": "Promo", "created_at": "2026-11-04T10:00:00+00:00"},
    {"id": "script", "text": SCRIPT, "title": "<img src=x onerror=alert(1)>", "rating": 5, "author": "<b>Eve</b>",
     "created_at": "2026-11-03T10:00:00+00:00", "url": "javascript:alert(1)"},
    {"id": "fine", "text": "Lovely fish soup and friendly staff, we will come back for the mussels.", "rating": 4,
     "author": "Nora", "created_at": "2026-11-02T10:00:00+00:00"},
    {"id": "cold", "text": "Cold soup, a rude waiter and a forty minute wait. Awful evening.", "rating": 1,
     "author": "Sam", "created_at": "2026-11-01T10:00:00+00:00"},
]
GOOGLE = {"name": "google-export", "type": "file", "path": "google.jsonl", "platform": "Google"}


@pytest.fixture
def ctx(make_context, tmp_path):
    write_jsonl(tmp_path / "google.jsonl", ROWS)
    write_jsonl(tmp_path / "closed.jsonl", [{"id": "c1", "text": "Visit now for a promo code, whatsapp me", "rating": 5,
                                             "author": "Closed Spammer", "created_at": "2026-11-06T10:00:00+00:00"}])
    ctx = make_context([GOOGLE, {"name": "closed-branch", "type": "file", "path": "closed.jsonl"}])
    assert all(result.ok for result in asyncio.run(poll_module.poll(ctx)))
    users.add_user(ctx, "olive", "owner", PASSWORD)
    return ctx


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def items(page: str) -> dict[str, str]:
    """Each listed review's markup, by its reviewer."""
    found = re.findall(r'<li class="item[^"]*" data-(?:review|draft)="\d+">(.*?)</li>', page, re.DOTALL)
    return {html.unescape(re.search(r'<span class="reviewer" dir="auto">(.*?)</span>', item).group(1)): item
            for item in found}


def links(item: str) -> dict[str, str]:
    """An item's links: their words -> the whole tag."""
    return {text_of(words).strip(): tag for tag, words in re.findall(r'(<a [^>]*>)(.*?)</a>', item, re.DOTALL)}


async def page_of(ctx, path: str) -> str:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.anyio
async def test_a_five_star_spam_review_is_in_the_suspicious_view_with_its_report_link(ctx) -> None:
    page = await page_of(ctx, "/inbox/suspicious")
    listed = items(page)
    # newest first, whatever the rating; Nora's and Sam's reviews are not suspicious
    assert list(listed) == ["Closed Spammer", "Coin Guy", "Promo", "<b>Eve</b>"]
    crypto = listed["Coin Guy"]
    assert "★★★★★" in crypto and CRYPTO in html.unescape(crypto)
    assert "Looks suspicious: reads like spam ('earn 500')." in text_of(crypto)
    report = links(crypto)["Report on Google"]
    assert 'href="https://maps.example/reviews/crypto"' in report
    assert 'target="_blank"' in report and 'rel="noopener noreferrer"' in report
    assert not any(words.startswith("Open draft") for words in links(crypto))  # five stars: no draft

    spam = listed["Promo"]
    draft_id = next(words for words in links(spam) if words.startswith("Open draft")).removeprefix("Open draft ")
    assert f'href="/drafts/{draft_id}"' in links(spam)[f"Open draft {draft_id}"]
    assert "no platform to report it to" in text_of(spam)  # a file source and no link: said, not guessed


@pytest.mark.anyio
async def test_the_inbox_keeps_its_reviews_and_links_to_the_suspicious_view(ctx) -> None:
    page = await page_of(ctx, "/inbox")
    assert set(items(page)) == {"Promo", "Sam"}  # the one-star spam review still needs an answer
    tabs = re.search(r'<nav class="tabs"[^>]*>(.*?)</nav>', page, re.DOTALL).group(1)
    assert text_of(tabs).split() == ["Needs", "an", "answer", "Suspicious", "(4)"]
    assert 'href="/inbox/suspicious"' in tabs and 'href="/inbox" aria-current="page"' in tabs
    suspicious = await page_of(ctx, "/inbox/suspicious")
    tabs = re.search(r'<nav class="tabs"[^>]*>(.*?)</nav>', suspicious, re.DOTALL).group(1)
    assert 'href="/inbox/suspicious" aria-current="page"' in tabs and 'href="/inbox"' in tabs


@pytest.mark.anyio
async def test_review_text_and_names_are_escaped_and_a_script_link_is_not_offered(ctx) -> None:
    page = await page_of(ctx, "/inbox/suspicious")
    assert "<script>alert('owned')</script>" not in page and "<img src=x" not in page and "<b>Eve</b>" not in page
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page
    eve = items(page)["<b>Eve</b>"]
    assert "javascript:" not in eve and "Report on" not in text_of(eve)


@pytest.mark.anyio
async def test_a_source_no_longer_in_the_config_is_left_out_and_said_so(ctx, make_context) -> None:
    assert "Closed Spammer" in items(await page_of(ctx, "/inbox/suspicious"))
    ctx = make_context([GOOGLE])  # the branch closed: its source left the config
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        page = (await client.get("/inbox/suspicious")).text
        inbox = (await client.get("/inbox")).text
    assert "Closed Spammer" not in items(page)
    assert "Left out: the reviews of closed-branch" in text_of(page) and "Suspicious (3)" in text_of(inbox)


@pytest.mark.anyio
async def test_filters_paging_and_the_empty_state(ctx) -> None:
    assert list(items(await page_of(ctx, "/inbox/suspicious?rating=1"))) == ["Promo"]
    assert list(items(await page_of(ctx, "/inbox/suspicious?since=2026-11-04&until=2026-11-05"))) == ["Coin Guy", "Promo"]
    assert list(items(await page_of(ctx, "/inbox/suspicious?source=closed-branch"))) == ["Closed Spammer"]
    first = await page_of(ctx, "/inbox/suspicious?limit=2&source=google-export")
    assert list(items(first)) == ["Coin Guy", "Promo"]
    older = re.search(r'<a class="button" href="([^"]+)" rel="next">', first).group(1)
    assert list(items(await page_of(ctx, html.unescape(older)))) == ["<b>Eve</b>"]
    filtered = await page_of(ctx, "/inbox/suspicious?location=Nowhere")
    assert "No suspicious review matches these filters" in text_of(filtered)
    with ctx.session() as session:  # as after `reviewmon rescore` with marks that find nothing
        session.exec(update(Review).values(triage=None))
        session.commit()
    empty = await page_of(ctx, "/inbox/suspicious")
    assert "No review looks suspicious" in text_of(empty) and "Suspicious (0)" in text_of(empty)


@pytest.mark.anyio
async def test_the_api_lists_the_suspicious_reviews_or_the_others(ctx) -> None:
    users.add_user(ctx, "adam", "admin", PASSWORD)
    headers = {"Authorization": f"Bearer {tokens.add_token(ctx, 'script', 'marketer', actor='adam')}"}
    async with web_session.client_for(ctx) as client:
        async def authors(query: str) -> list[str]:
            response = await client.get(f"/api/v1/reviews?{query}", headers=headers)
            assert response.status_code == 200, response.text
            return [item["author"] for item in response.json()["items"]]

        assert await authors("suspicious=true") == ["Closed Spammer", "Coin Guy", "Promo", "<b>Eve</b>"]
        assert await authors("suspicious=false") == ["Nora", "Sam"]
        assert await authors("suspicious=true&rating=1") == ["Promo"]
        assert len(await authors("")) == 6
        assert (await client.get("/api/v1/reviews?suspicious=maybe", headers=headers)).status_code == 400
