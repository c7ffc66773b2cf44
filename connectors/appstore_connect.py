"""Apple App Store Connect API: the customer reviews of your own app, with replies.

Reads `GET /v1/apps/{app_id}/customerReviews?sort=-createdDate&include=response`
(JSON:API: `data[]` of customerReviews, their developer responses in `included[]`),
200 a page, following `links.next` verbatim (an opaque cursor) until it is absent.
Auth is an ES256 JWT signed locally with the team's .p8 key (connectors.auth).

Apple gives reviews no updated time, so an edit can only be seen as changed content.
Incremental polls therefore catch new reviews only: newest first, stopping at the
newest createdDate stored last time less `margin`. Every `full_sync_every` the whole
listing is read (complete=True): that is when edits, changed responses and removed
reviews are noticed. `owner_reply` is the response body whether its state is
PUBLISHED or PENDING_PUBLISH (the state stays in `raw`). `raw` is the review as a
one-review JSON:API document: {"data": review, "included": [its response]}.

Backfill: the whole listing, newest first, following `links.next`; the resume cursor is
the next link of the last page stored. How long Apple honours a `cursor` is undocumented:
a resumed link that Apple refuses (400 or 404) reads the listing again from its start.
An exhausted hourly limit stops a backfill as it stops a poll, after the page is stored.

Replies: POST /v1/customerReviewResponses creates or replaces the one response a
review may have (posting again is safe); `delete_reply` removes it.

Rate limits: every answer carries `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:N;`
(a rolling hour per key); when N reaches 0 with pages still to read, the poll stops
with RateLimited rather than spend the budget on 429s. Over the limit Apple answers
429 RATE_LIMIT_EXCEEDED without Retry-After (Http backs off). Developers also report
429s with plenty of hourly quota left when requests run in parallel: an undocumented
burst limit, so this connector reads its pages one at a time.

Not verified (coded defensively):
- the reply length limit of 5,970 characters (commonly cited, not documented);
- which statuses Apple uses to refuse a reply (400, 404, 409 and 422 are all treated
  as a refusal with Apple's own reason);
- whether a replaced response keeps its id (delete_reply looks the current one up
  when the stored id is gone), and how `GET …/response` answers for a review without
  one (404 and `"data": null` are both read as "none");
- whether a customer's edit moves createdDate (if it does, incremental polls see it);
- `links.next` is trusted only on the base_url host or Apple's own API host, so the
  bearer token is never sent elsewhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import Field, field_validator

from connectors import base
from connectors.auth import AppStoreConnectKey
from connectors.base import (
    Capabilities,
    Duration,
    InvalidRecord,
    Page,
    PostedReply,
    ReplyLimit,
    ReplyTarget,
    ReviewData,
    RowError,
)
from connectors.errors import AuthError, BadResponse, RateLimited, ReplyRejected
from connectors.http import Http, json_body, require
from connectors.paging import BACKFILL_DONE, PageGuard, SyncPlan, backfill_done, backfill_guard, resume_page
from connectors.secrets import env_secret

APPLE_API = "https://api.appstoreconnect.apple.com"
REVIEW_TYPE, RESPONSE_TYPE = "customerReviews", "customerReviewResponses"
REFUSALS = (400, 404, 409, 422)
_HOUR_REMAINING = re.compile(r"user-hour-rem:(\d+)")
log = logging.getLogger("reviewmon.connectors.appstoreconnect")


class AppStoreConnectOptions(base.Options):
    app_id: str = Field(pattern=r"^[0-9]{1,20}$", description="the app's numeric Apple ID")
    key_id: str = Field(pattern=r"^[A-Za-z0-9]{1,64}$", description="the API key's Key ID")
    issuer_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$", description="the team's Issuer ID")
    private_key_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="env var holding the .p8 key or its path")
    territories: list[str] = Field(default_factory=list, description="ISO 3166 alpha-3 codes; empty: every territory")
    base_url: str = Field(default=APPLE_API, pattern=r"^https?://", description="a proxy or test server may stand in")
    page_size: int = Field(default=200, ge=1, le=200)
    max_pages: int = Field(default=250, ge=1, le=10_000)
    full_sync_every: Duration = timedelta(days=7)
    margin: Duration = timedelta(hours=1)

    @field_validator("territories")
    @classmethod
    def _alpha3(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not re.fullmatch(r"[A-Za-z]{3}", code):
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-3 code like 'USA' or 'GBR'")
        return [code.upper() for code in codes]


def read_private_key(env_name: str) -> str:
    """The .p8 key from the variable: its PEM text, or the path of the file holding it."""
    value = env_secret(env_name, key="sources.private_key_env")
    if "-----BEGIN" in value:
        return value if "\n" in value else value.replace("\\n", "\n")  # a one-line variable with \n escapes
    try:
        text = Path(value).expanduser().read_text(encoding="utf-8")
    except (OSError, ValueError):
        text = ""
    if "-----BEGIN" not in text:
        raise AuthError(f"environment variable {env_name} holds neither a .p8 key (-----BEGIN PRIVATE KEY-----…) "
                        "nor the path of a readable .p8 file")
    return text


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _response_ref(review: Mapping[str, Any]) -> tuple[str, str] | None:
    """(type, id) of the review's response as its relationships name it, if any."""
    data = _mapping(_mapping(_mapping(review.get("relationships")).get("response")).get("data"))
    return (str(data.get("type")), str(data["id"])) if data.get("id") is not None else None


def review_to_data(review: Any, included: Mapping[tuple[str, str], Any], *, app_id: str) -> ReviewData:
    """Normalise one customerReviews resource; raises InvalidRecord."""
    if not isinstance(review, Mapping):
        raise InvalidRecord(f"expected an object, got {type(review).__name__}")
    if review.get("type", REVIEW_TYPE) != REVIEW_TYPE:
        raise InvalidRecord(f"expected a {REVIEW_TYPE} resource, got {str(review.get('type'))[:40]!r}")
    attributes = review.get("attributes")
    if not isinstance(attributes, Mapping):
        raise InvalidRecord("attributes are missing")
    created = base.timestamp(attributes.get("createdDate"), "createdDate")
    if created is None:
        raise InvalidRecord("createdDate is missing")
    ref = _response_ref(review)
    response = included.get(ref) if ref else None
    reply = _mapping(_mapping(response).get("attributes")).get("responseBody")
    return ReviewData(
        external_id=base.external_id(review.get("id")),
        rating=base.star_rating(attributes.get("rating")),
        title=base.optional_text(attributes.get("title"), "title"),
        text=base.review_text(attributes.get("body"), "body"),
        author=base.optional_text(attributes.get("reviewerNickname"), "reviewerNickname"),
        location=base.optional_text(attributes.get("territory"), "territory"),
        created_at=created,
        url=f"https://apps.apple.com/app/id{app_id}?see-all=reviews",
        owner_reply=base.review_text(reply, "responseBody") or None,
        raw=base.sanitize({"data": review, "included": [response] if response is not None else []}),
    )


class _Refused(Exception):
    """A status the caller allowed came back (see AppStoreConnectConnector._read)."""


def _posted(response: httpx.Response, text: str) -> PostedReply:
    """What Apple said about the response it took; a 2xx we cannot read still succeeded."""
    try:
        data = _mapping(_mapping(json_body(response)).get("data"))
        attributes = _mapping(data.get("attributes"))
        posted_at = base.timestamp(attributes.get("lastModifiedDate"), "lastModifiedDate")
    except (BadResponse, InvalidRecord):
        return PostedReply(text=text)
    reply_id = data.get("id")
    return PostedReply(reply_id=str(reply_id) if reply_id is not None else None, posted_at=posted_at,
                       state=attributes.get("state"), text=attributes.get("responseBody") or text)


class AppStoreConnectConnector:
    Options = AppStoreConnectOptions
    capabilities = Capabilities(platform="the App Store", can_reply=True, reply_limit=ReplyLimit(5970, "characters"), reply_upsert=True,
                                history="every written review of the app (ratings without a review are not listed)")

    def __init__(self, options: AppStoreConnectOptions, *, http: Http):
        self.options = options
        self.http = http
        private_key = read_private_key(options.private_key_env)
        http.auth = AppStoreConnectKey(key_id=options.key_id, issuer_id=options.issuer_id, private_key=private_key,
                                       env_name=options.private_key_env)
        self.base = options.base_url.rstrip("/")

    # --- reading ---------------------------------------------------------------------

    def first_request(self) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"limit": self.options.page_size, "sort": "-createdDate", "include": "response"}
        if self.options.territories:
            params["filter[territory]"] = ",".join(self.options.territories)
        return f"{self.base}/v1/apps/{quote(self.options.app_id)}/customerReviews", params

    def _trusted(self, link: str) -> str:
        """links.next, as long as it stays on the API we sent our token to."""
        hosts = {urlsplit(self.base).netloc, urlsplit(APPLE_API).netloc}
        require(urlsplit(link).scheme in ("http", "https") and urlsplit(link).netloc in hosts,
                f"links.next points away from the App Store Connect API: {link[:100]!r}")
        return link

    async def _read(self, url: str, params: dict[str, Any] | None, *, allow: tuple[int, ...] = ()
                    ) -> tuple[list[Any], dict[tuple[str, str], Any], str | None, int | None]:
        """One page: its reviews, its included resources by (type, id), the next link,
        and the hourly requests left. A status in `allow` raises _Refused."""
        response = await self.http.request("GET", url, params=params, allow=allow)
        if response.status_code in allow:
            raise _Refused(f"{response.status_code}: {self.http.reason(response)}")
        body = json_body(response)
        require(isinstance(body, Mapping) and isinstance(body.get("data", []), list), "the reviews page has no 'data' list")
        listed = body.get("included") if isinstance(body.get("included"), list) else []  # unreadable: no responses
        included = {(str(r.get("type")), str(r.get("id"))): r for r in listed if isinstance(r, Mapping)}
        link = _mapping(body.get("links")).get("next")
        link = self._trusted(link) if isinstance(link, str) and link else None
        left = _HOUR_REMAINING.search(response.headers.get("X-Rate-Limit", ""))
        return body.get("data") or [], included, link, int(left.group(1)) if left else None

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """Newest first, until the listing ends, the saved newest review is reached
        (incremental polls) or PageGuard stops; the cursor goes on the last page."""
        o = self.options
        plan = SyncPlan.make(cursor, full_sync_every=o.full_sync_every, margin=o.margin)
        guard = PageGuard(o.max_pages)
        guard.next_page(None)  # count the first page against max_pages too
        url, params = self.first_request()
        newest: datetime | None = None
        number = 0
        while True:
            number += 1
            reviews, included, link, left = await self._read(url, params)
            page, oldest = self._page(number, reviews, included)
            newest = max((t for t in [newest, *(r.created_at for r in page.reviews)] if t), default=None)
            reached_known = plan.reached_known(oldest)
            if link and not reached_known and guard.next_page(link):
                yield page  # stored without a cursor: a poll that stops here is read again
                if left == 0:
                    raise RateLimited("App Store Connect: this API key's hourly request limit is used up "
                                      f"(X-Rate-Limit user-hour-rem:0) after page {number}; the next poll reads on")
                url, params = link, None
                continue
            if guard.stopped:
                page.errors.append(guard.stopped)
            complete = plan.full and not link
            page.cursor, page.complete = plan.cursor_after(newest, complete=complete), complete
            yield page
            return

    async def backfill(self, resume: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """The whole listing from its start, or from `resume` ({"page", "next"}: the next
        link saved after the last page stored), to its end."""
        if backfill_done(resume):
            return
        guard = backfill_guard()
        url, params = self.first_request()
        number, resuming = 1, False
        saved = resume.get("next") if resume else None
        if isinstance(saved, str) and saved:
            try:
                url, params, number, resuming = self._trusted(saved), None, resume_page(resume), True
                guard.seen_tokens.add(saved)
            except BadResponse:  # base_url changed since: the saved link is not ours to follow
                log.warning("the saved next link is not on %s: reading the listing again from its first page", self.base)
        while True:
            try:
                reviews, included, link, left = await self._read(url, params, allow=(400, 404) if resuming else ())
            except _Refused as refused:
                log.warning("App Store Connect refused the saved next link of page %d (%s): reading the listing again "
                            "from its first page (reviews read twice are stored once)", number, refused)
                (url, params), number, guard = self.first_request(), 1, backfill_guard()
                continue
            finally:
                resuming = False
            page, _ = self._page(number, reviews, included)
            if link and not guard.next_page(link):
                page.errors.append(guard.stopped)
                link = None
            page.cursor = {"page": number + 1, "next": link} if link else dict(BACKFILL_DONE)
            yield page
            if not link:
                return
            if left == 0:
                raise RateLimited("App Store Connect: this API key's hourly request limit is used up "
                                  f"(X-Rate-Limit user-hour-rem:0) after page {number}; run the backfill again "
                                  "in an hour to resume there")
            url, params, number = link, None, number + 1

    def _page(self, number: int, reviews: list[Any], included: Mapping[tuple[str, str], Any]) -> tuple[Page, datetime | None]:
        page = Page()
        oldest: datetime | None = None
        for index, review in enumerate(reviews, start=1):
            try:
                data = review_to_data(review, included, app_id=self.options.app_id)
            except InvalidRecord as exc:
                page.errors.append(RowError(f"page {number}, review {index}", str(exc), raw=base.sanitize(review)))
                continue
            page.reviews.append(data)
            oldest = data.created_at if oldest is None or data.created_at < oldest else oldest
        return page, oldest

    # --- replying --------------------------------------------------------------------

    async def post_reply(self, target: ReplyTarget, text: str) -> PostedReply:
        """Create or replace the review's one public response."""
        body = {"data": {"type": RESPONSE_TYPE, "attributes": {"responseBody": text},
                         "relationships": {"review": {"data": {"type": REVIEW_TYPE, "id": target.external_id}}}}}
        response = await self.http.request("POST", f"{self.base}/v1/customerReviewResponses", json=body, allow=REFUSALS)
        if response.status_code in REFUSALS:
            raise ReplyRejected(self.http.redact(
                f"App Store Connect refused the reply ({response.status_code}): {self.http.reason(response)}"))
        return _posted(response, text)

    async def delete_reply(self, target: ReplyTarget) -> bool:
        """Remove the review's public response; False when it has none (already gone)."""
        stored = _response_ref(_mapping(_mapping(target.raw).get("data")) or _mapping(target.raw))
        stored_id = stored[1] if stored else None
        if stored_id and await self._delete_response(stored_id):
            return True
        current = await self._current_response_id(target.external_id)
        return current is not None and current != stored_id and await self._delete_response(current)

    async def _delete_response(self, response_id: str) -> bool:
        url = f"{self.base}/v1/customerReviewResponses/{quote(response_id, safe='')}"
        return (await self.http.request("DELETE", url, allow=(404,))).status_code != 404

    async def _current_response_id(self, review_id: str) -> str | None:
        url = f"{self.base}/v1/customerReviews/{quote(review_id, safe='')}/response"
        response = await self.http.request("GET", url, allow=(404,))
        if response.status_code == 404:
            return None
        data = _mapping(json_body(response)).get("data")
        return str(data["id"]) if isinstance(data, Mapping) and data.get("id") is not None else None
