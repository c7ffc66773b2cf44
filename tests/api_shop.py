"""A business with reviews, drafts, people and API tokens, for the JSON API's tests:
the real app over the real database (a SQLite file, or PostgreSQL), as a program sees it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from service.context import Context
from service.desk import queries, tokens, users
from service.polling import poll as poll_module
from tests import web_session
from tests.conftest import CONTACT

PASSWORD = "correct horse battery staple"
GOOD = f"Hi, we are sorry to read this. Please email us at {CONTACT} so the manager can talk with you."
BAD = f"Sorry, but it was a busy night. We will refund you 50% - call 555 0100 or {CONTACT}."
SETTINGS = '\n[replies]\ncooling_off = "3h"\n'
NEGATIVE_REVIEWS = 24


@dataclass
class Shop:
    ctx: Context
    drafts: dict[str, int]  # external review id -> draft id
    secrets: dict[str, str] = field(default_factory=dict)  # token name -> secret

    def client(self) -> httpx.AsyncClient:
        return web_session.client_for(self.ctx)

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[token]}"}

    def draft(self, external_id: str) -> dict[str, Any]:
        with self.ctx.session() as session:
            return queries.draft(session, self.drafts[external_id])


def negative_reviews(count: int, now: datetime) -> list[Any]:
    """Complaints in threes written at the same second (the lists' ties), and one whose
    platform gives no time at all (it counts as written when first seen)."""
    from tests.fakeconnector import review

    made = [review(f"n{i:02d}", f"Cold soup and a rude waiter, visit {i}. Awful.", 1, author=f"Guest {i}",
                   location="Old Town" if i % 2 else "Harbour", created_at=now - timedelta(hours=5 + i // 3))
            for i in range(count - 1)]
    return [*made, review("untimed", "Awful service, we waited an hour for cold food.", 1, author="Kim")]


def open_shop(make_context, *, extra: str = SETTINGS) -> Shop:
    """Source `fb` (takes replies): an escalated complaint, NEGATIVE_REVIEWS others, praise
    (no draft). People: olive (owner), mia (marketer), adam (admin). Tokens: owner-bot
    (owner), reader-bot (marketer), old-bot (revoked)."""
    from tests.fakeconnector import FakeSource, review

    now = datetime.now(timezone.utc)
    FakeSource("fb").page(
        review("poison", "I got food poisoning after the fish. Awful.", 2, author="Nora", created_at=now - timedelta(days=9)),
        *negative_reviews(NEGATIVE_REVIEWS, now),
        review("praise", "Lovely place, great chowder, friendly people!", 5, author="Ann", created_at=now - timedelta(hours=1)),
        cursor={"n": 1},
    )
    ctx = make_context([{"name": "fb", "type": "fakereply", "script": "fb"}], extra=extra)
    asyncio.run(poll_module.poll(ctx))
    for name, role in (("olive", "owner"), ("mia", "marketer"), ("adam", "admin")):
        users.add_user(ctx, name, role, PASSWORD)
    with ctx.session() as session:
        drafts = {row["external_id"]: row["id"] for row in queries.draft_rows(session)}
    shop = Shop(ctx, drafts)
    for name, role in (("owner-bot", "owner"), ("reader-bot", "marketer"), ("old-bot", "owner")):
        shop.secrets[name] = tokens.add_token(ctx, name, role, actor="adam")
    tokens.revoke_token(ctx, "old-bot", actor="adam")
    return shop


async def follow(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following `next` to the end; and how many pages it took."""
    items: list[dict[str, Any]] = []
    pages = 0
    while url is not None:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next"}
        items += body["items"]
        pages += 1
        url = body["next"]
        assert pages < 100, "paging does not end"
    return items, pages
