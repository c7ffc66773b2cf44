"""The owner's day in the web app (issue 19): the platform the owner configured, the word
that escalated a review as the review wrote it, and a history that says what happened."""

from __future__ import annotations

import asyncio
import html
import re

import pytest

from service.desk import approvals, queries, users
from service.polling import poll as poll_module
from tests import web_session
from tests.conftest import CONTACT, write_jsonl

PASSWORD = "correct horse battery staple"
GOOD = f"Hi, we are sorry to read this. Please email us at {CONTACT} so the manager can talk with you."


@pytest.fixture
def ctx(make_context, tmp_path):
    write_jsonl(tmp_path / "google.jsonl", [
        {"id": "g1", "text": "The waiter was openly Racist towards my husband. Disgusting.", "rating": 1, "author": "Priya"},
        {"id": "g2", "text": "My daughter had an allergic reaction after the dessert. Awful.", "rating": 1, "author": "Tom"},
    ])
    ctx = make_context([{"name": "google-export", "type": "file", "path": "google.jsonl", "platform": "Google"}])
    asyncio.run(poll_module.poll(ctx))
    users.add_user(ctx, "olive", "owner", PASSWORD)
    return ctx


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def draft_of(ctx, author: str) -> int:
    with ctx.session() as session:
        return next(r["id"] for r in queries.draft_rows(session) if r["author"] == author)


@pytest.mark.anyio
async def test_pages_name_the_platform_and_the_word_the_review_wrote(ctx) -> None:
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        sources = text_of((await client.get("/sources")).text)
        inbox = text_of((await client.get("/inbox")).text)
        editor = text_of((await client.get(f"/drafts/{draft_of(ctx, 'Tom')}")).text)
    assert "google-export Google (file)" in sources
    assert "escalated: discrimination (Racist)" in inbox and "escalated: illness (allergic)" in inbox
    assert "(racis)" not in inbox and "(allerg)" not in inbox
    assert "google-export (Google)" in editor and "(file)" not in editor
    assert "Escalated: illness (allergic)" in editor


@pytest.mark.anyio
async def test_the_history_says_what_happened(ctx) -> None:
    draft_id = draft_of(ctx, "Tom")
    approvals.edit(ctx, draft_id, GOOD, actor="olive")
    approvals.approve(ctx, draft_id, actor="olive")
    approvals.edit(ctx, draft_id, GOOD + " Thank you.", actor="olive")
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        page = (await client.get(f"/drafts/{draft_id}")).text
    history = re.search(r'<table class="history[^"]*">.*?<tbody>(.*?)</tbody>', page, re.DOTALL).group(1)
    rows = [[text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", history, re.DOTALL)]
    assert [row[1:3] for row in rows] == [
        ["reviewmon", "drafted a reply"], ["olive", "edited the draft"], ["olive", "approved the reply"],
        ["olive", "edited the approved reply: it needs approving again"],
    ]


@pytest.mark.anyio
async def test_the_editor_previews_the_reply_against_the_limit_of_the_platform_the_owner_named(ctx) -> None:
    """A file of Google reviews: its replies are pasted on Google, so Google's limit holds
    (4,096 bytes), in the preview and in the guard."""
    draft_id = draft_of(ctx, "Tom")
    approvals.edit(ctx, draft_id, GOOD, actor="olive")
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        editor = text_of((await client.get(f"/drafts/{draft_id}")).text)
    assert "How it will read on Google" in editor and "Reply from Harbour Lane Bistro" in editor
    assert f"{len(GOOD.encode())} of the 4,096 bytes Google allows" in editor

    too_long = GOOD + " " + "é" * 2100  # under 4,096 characters, over 4,096 bytes
    verdict = approvals.edit(ctx, draft_id, too_long, actor="olive")
    assert not verdict.ok and any("4096" in p or "4,096" in p for p in verdict.problems), verdict.problems
    async with web_session.logged_in(ctx, "olive", PASSWORD) as (client, _):
        editor = text_of((await client.get(f"/drafts/{draft_id}")).text)
    assert f"{len(too_long.encode()):,} of the 4,096 bytes Google allows: too long, shorten it by" in editor
