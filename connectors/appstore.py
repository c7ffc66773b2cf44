"""Apple App Store: the public customer-reviews feed (JSON flavour of the legacy RSS).

No credentials. The feed lists the most recent reviews of one app in one storefront,
50 a page, pages 1-10 (so at most ~500 per country). Every value is wrapped as
`{"label": ...}`; `entry` may be a list, a single object or missing; older feeds put an
app-metadata entry (no `im:rating`) first. `updated` is the only timestamp; edits move
it, so a poll can stop once a page reaches entries older than the newest one it stored
last time. Real JSON feeds have omitted `updated` (public client code and fixtures show
entries without it): such an entry is read with no time of its own (the service then
knows it by when it first saw it) and plays no part in the stop or the saved mark; a
feed with no dates at all is read to max_pages every poll. The feed sometimes answers with no entries at all, so an empty first page is
asked for once more before it is believed. A storefront without the app answers 404:
that is an empty source, not a failure. See shared/platform-apis.md section 2a.

Backfill: pages 1 to 10 (the feed's limit), resumable at the next page number; older
reviews than those ~500 are not in the feed at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from connectors import base
from connectors.base import Capabilities, InvalidRecord, Page, ReviewData, RowError
from connectors.errors import BadResponse
from connectors.http import Http, json_body
from connectors.paging import BACKFILL_DONE, backfill_done, resume_page

MAX_PAGES = 10


class AppStoreOptions(base.Options):
    app_id: str = Field(pattern=r"^[0-9]{1,20}$", description="the numeric id in the app's App Store URL")
    country: str = Field(default="us", pattern=r"^[a-z]{2}$", description="two-letter storefront code")
    base_url: str = Field(default="https://itunes.apple.com", pattern=r"^https?://", description="a proxy or test server may stand in")
    max_pages: int = Field(default=MAX_PAGES, ge=1, le=MAX_PAGES)


def _label(node: Any, key: str) -> Any:
    value = node.get(key) if isinstance(node, Mapping) else None
    return value.get("label") if isinstance(value, Mapping) else None


def _attribute(node: Any, key: str) -> Any:
    """node["attributes"][key], or None when either is not an object."""
    attributes = node.get("attributes") if isinstance(node, Mapping) else None
    return attributes.get(key) if isinstance(attributes, Mapping) else None


def _content(entry: Mapping[str, Any]) -> Any:
    content = entry.get("content")
    if isinstance(content, list):  # some feeds send a text and an html variant
        for item in content:
            if _attribute(item, "type") == "text":
                return item.get("label")
        return _label({"c": content[0]}, "c") if content else None
    return _label(entry, "content")


def entry_to_review(entry: Mapping[str, Any], *, app_id: str, country: str) -> ReviewData:
    """Normalise one feed entry; raises InvalidRecord."""
    updated = base.timestamp(_label(entry, "updated"), "updated")  # None: absent (the service uses first seen)
    author = entry.get("author")
    link = entry.get("link")
    href = _attribute(link, "href")
    return ReviewData(
        external_id=base.external_id(_label(entry, "id")),
        rating=base.star_rating(_label(entry, "im:rating")),
        title=base.optional_text(_label(entry, "title"), "title"),
        text=base.review_text(_content(entry)),
        author=base.optional_text(_label(author, "name"), "author"),
        location=country.upper(),
        created_at=updated,
        updated_at=updated,
        url=base.optional_text(href, "url") or f"https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews",
        raw=base.sanitize(entry),
    )


def _entries(body: Any) -> list[Any]:
    if not isinstance(body, Mapping) or not isinstance(body.get("feed"), Mapping):
        raise BadResponse("the feed has no 'feed' object")
    entries = body["feed"].get("entry")
    if entries is None:
        return []
    return entries if isinstance(entries, list) else [entries]


class AppStoreFeedConnector:
    Options = AppStoreOptions
    capabilities = Capabilities(platform="the App Store",
                                history=f"only the {MAX_PAGES * 50} or so most recent reviews of the storefront "
                                        f"(the feed stops at page {MAX_PAGES})")

    def __init__(self, options: AppStoreOptions, *, http: Http):
        self.options = options
        self.http = http

    def page_url(self, number: int) -> str:
        o = self.options
        return f"{o.base_url.rstrip('/')}/{o.country}/rss/customerreviews/page={number}/id={o.app_id}/sortby=mostrecent/json"

    async def _read_page(self, number: int) -> list[Any] | None:
        """The page's entries; None when the storefront has no such page or app (404)."""
        response = await self.http.request("GET", self.page_url(number), allow=(404,))
        if response.status_code == 404:
            return None
        return _entries(json_body(response))

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        since = base.timestamp((cursor or {}).get("latest"), "cursor.latest")
        newest = since
        for number in range(1, self.options.max_pages + 1):
            entries = await self._read_page(number)
            if number == 1 and entries == []:
                entries = await self._read_page(number)  # the feed is sometimes empty for a moment
            if not entries:
                break
            page, oldest = self._page(number, entries)
            for review in page.reviews:
                if review.updated_at is not None and (newest is None or review.updated_at > newest):
                    newest = review.updated_at
            reached_known = since is not None and oldest is not None and oldest < since
            last = reached_known or number == self.options.max_pages
            if last:
                page.cursor = {"latest": newest.isoformat()} if newest else None
                yield page
                return
            yield page
        yield Page(cursor={"latest": newest.isoformat()} if newest else None)

    async def backfill(self, resume: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """Pages 1 to 10 (all the feed has), or from `resume` ({"page": the next page})."""
        if backfill_done(resume):
            return
        for number in range(resume_page(resume), MAX_PAGES + 1):
            entries = await self._read_page(number)
            if number == 1 and entries == []:
                entries = await self._read_page(number)  # the feed is sometimes empty for a moment
            page = self._page(number, entries)[0] if entries else Page()
            last = not entries or number == MAX_PAGES
            page.cursor = dict(BACKFILL_DONE) if last else {"page": number + 1}
            yield page
            if last:
                return
        yield Page(cursor=dict(BACKFILL_DONE))  # resumed past the last page

    def _page(self, number: int, entries: list[Any]) -> tuple[Page, datetime | None]:
        page = Page()
        oldest: datetime | None = None
        for index, entry in enumerate(entries, start=1):
            if isinstance(entry, Mapping) and "im:rating" not in entry and "im:name" in entry:
                continue  # the app's own metadata entry, not a review
            try:
                if not isinstance(entry, Mapping):
                    raise InvalidRecord(f"expected an object, got {type(entry).__name__}")
                review = entry_to_review(entry, app_id=self.options.app_id, country=self.options.country)
            except InvalidRecord as exc:
                page.errors.append(RowError(f"page {number}, entry {index}", str(exc), raw=base.sanitize(entry)))
                continue
            page.reviews.append(review)
            if review.updated_at is not None and (oldest is None or review.updated_at < oldest):
                oldest = review.updated_at
        return page, oldest
