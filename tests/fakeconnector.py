"""A scripted source for tests above the connector layer (poller, ingest, CLI).

    fake = FakeSource()
    fake.page(review("a"), review("b"), cursor={"n": 1}).fail(ConnectorError("boom"))

Register it with the `fake_type` fixture; sources of type "fake" then replay the script
of the FakeSource named by their `script` option.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from connectors import base
from connectors.base import Capabilities, Page, ReviewData

SCRIPTS: dict[str, FakeSource] = {}


def review(external_id: str, text: str = "Nice place.", rating: int | None = 5, **fields: Any) -> ReviewData:
    return ReviewData(external_id=external_id, text=text, rating=rating, raw={"id": external_id}, **fields)


class FakeSource:
    def __init__(self, name: str = "default"):
        self.steps: list[Page | BaseException | float | Callable[[], Any]] = []
        self.cursors_seen: list[Any] = []
        SCRIPTS[name] = self

    def page(self, *reviews: ReviewData, cursor: dict[str, Any] | None = None, errors: list[base.RowError] | None = None,
             complete: bool = False) -> FakeSource:
        self.steps.append(Page(reviews=list(reviews), errors=list(errors or []), cursor=cursor, complete=complete))
        return self

    def fail(self, error: BaseException) -> FakeSource:
        self.steps.append(error)
        return self

    def wait(self, seconds: float) -> FakeSource:
        """A slow platform: the next page comes `seconds` later."""
        self.steps.append(seconds)
        return self

    def call(self, fn: Callable[[], Any]) -> FakeSource:
        """Something happens out there when the script gets here: `fn()` runs (a fault, a lock)."""
        self.steps.append(fn)
        return self


class FakeOptions(base.Options):
    script: str = "default"


class FakeConnector:
    Options = FakeOptions
    capabilities = Capabilities(platform="Fakebook")

    def __init__(self, options: FakeOptions, **_: Any):
        self.source = SCRIPTS[options.script]

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        self.source.cursors_seen.append(cursor)
        for step in self.source.steps:
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, float | int):
                await asyncio.sleep(step)
                continue
            if callable(step):
                step()
                continue
            yield step


class FakeReplyConnector(FakeConnector):
    """A fake platform that takes replies; records every post, can refuse or be read back.
    Tests change its class-level capabilities (limit, upsert) with monkeypatch."""

    capabilities = Capabilities(platform="Fakebook", can_reply=True, reply_limit=base.ReplyLimit(5000))
    posted: list[tuple[str, str]] = []
    refuse_with: BaseException | None = None
    shown: dict[str, str] = {}  # external id -> reply the platform shows (for current_reply)

    async def post_reply(self, target: base.ReplyTarget, text: str) -> base.PostedReply:
        if FakeReplyConnector.refuse_with is not None:
            raise FakeReplyConnector.refuse_with
        FakeReplyConnector.posted.append((target.external_id, text))
        FakeReplyConnector.shown[target.external_id] = text
        return base.PostedReply(reply_id=f"reply-{target.external_id}", state="PENDING_PUBLISH")

    async def current_reply(self, target: base.ReplyTarget) -> base.PostedReply | None:
        text = FakeReplyConnector.shown.get(target.external_id)
        return base.PostedReply(reply_id=f"reply-{target.external_id}", text=text) if text else None

    async def delete_reply(self, target: base.ReplyTarget) -> bool:
        return FakeReplyConnector.shown.pop(target.external_id, None) is not None
