"""What the platforms tell beyond the review, as the review page shows it (issue 18): a
review whose platform sent only its translation (Tripadvisor's machine-translated
reviews) is shown as a translation, openly, never as the reviewer's own words; the
platform's moderation state of the reply it shows (Google) is shown with the reply."""

from __future__ import annotations

import asyncio
import html

import pytest

from service.desk import queries, users
from service.polling import poll as poll_module
from tests import web_session
from tests.fakeconnector import FakeSource, review

PASSWORD = "correct horse battery staple"


@pytest.fixture
def stored(make_context, fake_type):
    FakeSource("ta").page(
        review("mt", "", 3, translation="The breakfast was cold and the room was dirty.", language="de"),
        review("de", "Das Frühstück war kalt.", 2, translation="The breakfast was cold."),
        review("moderated", "Cold soup.", 1, owner_reply="Sorry! Please call us.", owner_reply_state="REJECTED"),
        cursor={"n": 1},
    )
    ctx = make_context([{"name": "ta", "type": "fake", "script": "ta"}])
    asyncio.run(poll_module.poll(ctx))
    users.add_user(ctx, "mia", "marketer", PASSWORD)
    with ctx.session() as session:
        return ctx, {row["external_id"]: row["id"] for row in queries.review_rows(session)}


@pytest.mark.anyio
async def test_a_review_known_only_in_translation_shows_the_translation_as_such(stored) -> None:
    ctx, ids = stored
    async with web_session.logged_in(ctx, "mia", PASSWORD) as (client, _):
        only = html.unescape((await client.get(f"/reviews/{ids['mt']}")).text)
        both = html.unescape((await client.get(f"/reviews/{ids['de']}")).text)
    assert "sent only its translation, not the reviewer's own words" in only
    assert "The breakfast was cold and the room was dirty." in only and "<summary>The platform's translation" not in only
    assert "<summary>The platform's translation</summary>" in both and "only its translation" not in both


@pytest.mark.anyio
async def test_the_platforms_moderation_of_the_reply_is_shown_with_it(stored) -> None:
    ctx, ids = stored
    async with web_session.logged_in(ctx, "mia", PASSWORD) as (client, _):
        moderated = html.unescape((await client.get(f"/reviews/{ids['moderated']}")).text)
        plain = html.unescape((await client.get(f"/reviews/{ids['de']}")).text)
    assert "Sorry! Please call us." in moderated
    assert "The platform's moderation of that reply</dt><dd>REJECTED</dd>" in moderated
    assert "moderation of that reply" not in plain
