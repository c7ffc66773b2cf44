"""Trustpilot: the service reviews of one business unit, read through the public API;
replies posted through the private (business-user) API when it is configured.

Reading: `GET /v1/business-units/{id}/reviews?perPage=&page=&orderBy=createdat.desc` with
the header `apikey`. Pages are numbered from 1; a page past the end holds an empty
`reviews` array and each page's `links` carries a `rel: "next-page"` link while there is
more. We number the pages ourselves (so `base_url` may be a proxy) and use the next-page
link only as the sign that there is more, and as the PageGuard token: a link the
platform has already given is a loop, and reading stops there with a "paging" row error.
So does `max_pages`: a business with more than max_pages x per_page reviews never gets a
complete listing (raise max_pages), and a stopped poll keeps the old high-water mark.

What an incremental poll cannot see: the listing is sorted by CREATION time. A poll
stops at the page that reaches reviews created before the newest creation time saved
last time, less `margin`, so an older review that its author edits later (`updatedAt`
moves), or a company reply added to an older review, is only picked up by the periodic
full listing (`full_sync_every`, default daily). Only that full listing, read to the
end, is `complete`, so only it lets the service mark reviews that vanished as removed.
(The documented `orderBy` values sort by creation time or by stars, never by update time.)

Backfill: every page from page 1 (or the saved page number) until a page comes back
empty or without a next-page link. Page numbers do not expire; a review added while a
backfill runs shifts the later ones a place down, so one may be read twice (stored once).

Replies: `POST /v1/private/reviews/{id}/reply` with `{"authorBusinessUserId", "message"}`
and a business-user bearer token from the documented client-credentials grant
(`POST /v1/oauth/oauth-business-users-for-applications/accesstoken`, HTTP Basic with the
API key and secret, `grant_type=client_credentials`): nothing to renew by hand, a new
token is asked for when the last expires (`expires_in`, a string, about 100 hours) or is
refused. `DELETE` on the same path withdraws a reply. Whether a second reply replaces or
duplicates the first is not documented, so replies are not treated as upserts: after an
interrupted post the service reads the review back (`current_reply`) before posting again.

The refresh-token grant used before needed a refresh token renewed by hand every 30
days; a config that still names `refresh_token_env` keeps working (the variable is no
longer read) and the source carries a deprecation warning saying to remove it.

Not verified (see shared/platform-apis.md section 5), so coded defensively:
- the reply length limit: none is documented; 2,000 characters is our assumption;
- the body of the 201 answer to a reply (read when it is JSON, ignored otherwise);
- the error body shape for refused replies (the generic reason reader is used);
- whether an edit changes `createdAt` too (if it did, edits would show up sooner);
- the names of the verification fields (`isVerified`, `reviewVerificationLevel`, ...),
  which vary between API versions: they are not read, only kept in `raw`;
- that private endpoints need only the bearer token (the API key is not sent there).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field

from connectors import base
from connectors.auth import ApiKey, OAuthClientCredentials
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
from connectors.errors import AuthError, BadResponse, ReplyRejected
from connectors.http import Http, json_body, require
from connectors.paging import BACKFILL_DONE, PageGuard, SyncPlan, backfill_done, backfill_guard, resume_page
from connectors.secrets import env_secret

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
PLATFORM_ID = r"^[A-Za-z0-9_-]{1,64}$"
REVIEW_PAGE = "https://www.trustpilot.com/reviews/{id}"
REPLY_OPTIONS = ("api_secret_env", "business_user_id")
TOKEN_PATH = "/v1/oauth/oauth-business-users-for-applications/accesstoken"
REFRESH_TOKEN_DEPRECATED = (
    "refresh_token_env is no longer used: Trustpilot replies now get their token from the API key and secret "
    "(the client-credentials grant, renewed by itself when it expires), so no refresh token needs renewing by hand; "
    "remove it from this source's config, and the refresh token from the environment")
log = logging.getLogger("reviewmon.connectors.trustpilot")


class TrustpilotOptions(base.Options):
    business_unit_id: str = Field(pattern=PLATFORM_ID, description="the business unit's id (not its domain)")
    api_key_env: str = Field(pattern=ENV_NAME, description="environment variable holding the API key")
    api_secret_env: str | None = Field(default=None, pattern=ENV_NAME, description="for replies: the API secret")
    refresh_token_env: str | None = Field(default=None, pattern=ENV_NAME, description="deprecated and not read (replies use the client-credentials grant)")
    business_user_id: str | None = Field(default=None, pattern=PLATFORM_ID, description="for replies: who the replies are posted as")
    base_url: str = Field(default="https://api.trustpilot.com", pattern=r"^https?://", description="a proxy or test server may stand in")
    per_page: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=500, ge=1, description="a full listing must fit in this many pages to count as complete")
    full_sync_every: Duration = timedelta(days=1)
    margin: Duration = timedelta(hours=1)

    @property
    def deprecations(self) -> tuple[str, ...]:
        """What in this source's config still works but should go (shown with the source)."""
        return (REFRESH_TOKEN_DEPRECATED,) if self.refresh_token_env is not None else ()


class _BusinessUserToken(OAuthClientCredentials):
    """Http redacts only its own `auth`'s secrets (the API key); every token this one
    obtains is handed to it as well, so a reply error never shows the bearer token."""

    async def refresh(self, http: Http) -> None:
        await super().refresh(http)
        http.add_secrets(*self.secrets())


def _field(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None


def record_to_review(record: Mapping[str, Any]) -> ReviewData:
    """Normalise one review of the listing; raises InvalidRecord."""
    review_id = base.external_id(record.get("id"))
    created = base.timestamp(record.get("createdAt"), "createdAt")
    if created is None:
        raise InvalidRecord("createdAt is missing")  # paging stops by it, so it must be there
    return ReviewData(
        external_id=review_id,
        rating=base.star_rating(record.get("stars")),
        title=base.optional_text(record.get("title"), "title"),
        text=base.review_text(record.get("text")),
        author=base.optional_text(_field(record.get("consumer"), "displayName"), "consumer.displayName"),
        created_at=created,
        updated_at=base.timestamp(record.get("updatedAt"), "updatedAt"),
        url=REVIEW_PAGE.format(id=quote(review_id, safe="")),
        owner_reply=base.optional_text(_field(record.get("companyReply"), "text"), "companyReply.text", limit=base.MAX_TEXT_CHARS),
        language=base.optional_text(record.get("language"), "language"),
        raw=base.sanitize(record),
    )


def _reviews_and_next_link(body: Any) -> tuple[list[Any], str | None]:
    """The page's review records and its next-page link (None on the last page)."""
    require(isinstance(body, Mapping), "the reviews listing is not a JSON object")
    records = body.get("reviews")
    require(isinstance(records, list), "the reviews listing has no 'reviews' array")
    links = body.get("links") if isinstance(body.get("links"), list) else []
    following = [link.get("href") for link in links if isinstance(link, Mapping) and link.get("rel") == "next-page"]
    return records, next((str(href) for href in following if href), None)


class TrustpilotConnector:
    Options = TrustpilotOptions
    capabilities = Capabilities(platform="Trustpilot", can_reply=True, reply_limit=ReplyLimit(2000, "characters"), reply_upsert=False,
                                history="every public service review of the business unit")

    def __init__(self, options: TrustpilotOptions, *, http: Http):
        self.options = options
        self.http = http
        self._api_key = env_secret(options.api_key_env, key="sources.api_key_env")
        http.auth = ApiKey("apikey", self._api_key, env_name=options.api_key_env)
        self._reply_auth = self._business_user_token()
        for message in options.deprecations:
            log.warning("Trustpilot business unit %s: %s", options.business_unit_id, message)

    @property
    def replies_configured(self) -> bool:
        return self._reply_auth is not None

    def _business_user_token(self) -> _BusinessUserToken | None:
        """The reply credentials, read now so a variable named but not set fails the source."""
        o = self.options
        if o.api_secret_env is None or o.business_user_id is None:
            return None
        secret = env_secret(o.api_secret_env, key="sources.api_secret_env")
        self.http.add_secrets(secret)
        return _BusinessUserToken(token_url=f"{self._base}{TOKEN_PATH}", client_id=self._api_key, client_secret=secret,
                                  env_names=[o.api_key_env, o.api_secret_env])

    @property
    def _base(self) -> str:
        return self.options.base_url.rstrip("/")

    @property
    def listing_url(self) -> str:
        return f"{self._base}/v1/business-units/{quote(self.options.business_unit_id, safe='')}/reviews"

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        o = self.options
        plan = SyncPlan.make(cursor, full_sync_every=o.full_sync_every, margin=o.margin)
        guard = PageGuard(o.max_pages)
        guard.next_page(None)  # counts the first page, so max_pages is exact
        newest: datetime | None = None
        number = 1
        while True:
            params = {"perPage": o.per_page, "page": number, "orderBy": "createdat.desc"}
            records, next_link = _reviews_and_next_link(await self.http.get_json(self.listing_url, params=params))
            page, oldest = self._page(number, records)
            newest = max((t for t in [newest, *(r.created_at for r in page.reviews)] if t is not None), default=None)
            more = bool(records) and next_link is not None and not plan.reached_known(oldest)
            if more and guard.next_page(next_link):
                yield page
                number += 1
                continue
            if guard.stopped is not None:
                page.errors.append(guard.stopped)
                newest = None  # reviews between here and the saved mark are unread: keep the old mark
            page.complete = plan.full and guard.stopped is None
            page.cursor = plan.cursor_after(newest, complete=page.complete)
            yield page
            return

    async def backfill(self, resume: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """Every page of the listing from page 1, or from `resume` ({"page": the next page})."""
        if backfill_done(resume):
            return
        guard = backfill_guard()
        number = resume_page(resume)
        while True:
            params = {"perPage": self.options.per_page, "page": number, "orderBy": "createdat.desc"}
            records, next_link = _reviews_and_next_link(await self.http.get_json(self.listing_url, params=params))
            page, _ = self._page(number, records)
            more = bool(records) and next_link is not None
            if more and not guard.next_page(next_link):
                page.errors.append(guard.stopped)
                more = False
            page.cursor = {"page": number + 1} if more else dict(BACKFILL_DONE)
            yield page
            if not more:
                return
            number += 1

    def _page(self, number: int, records: list[Any]) -> tuple[Page, datetime | None]:
        """The page's reviews and row errors, and the oldest creation time on it."""
        page = Page()
        for index, record in enumerate(records, start=1):
            try:
                if not isinstance(record, Mapping):
                    raise InvalidRecord(f"expected an object, got {type(record).__name__}")
                page.reviews.append(record_to_review(record))
            except InvalidRecord as exc:
                page.errors.append(RowError(f"page {number}, review {index}", str(exc), raw=base.sanitize(record)))
        oldest = min((r.created_at for r in page.reviews if r.created_at is not None), default=None)
        return page, oldest

    def _review_path(self, target: ReplyTarget) -> str:
        return quote(target.external_id, safe="")

    def _reply_url(self, target: ReplyTarget) -> str:
        if self._reply_auth is None:
            missing = [name for name in REPLY_OPTIONS if getattr(self.options, name) is None]
            raise AuthError(f"replying to Trustpilot needs the source options {', '.join(REPLY_OPTIONS)}; not set: {', '.join(missing)}")
        return f"{self._base}/v1/private/reviews/{self._review_path(target)}/reply"

    async def post_reply(self, target: ReplyTarget, text: str) -> PostedReply:
        """Post the company reply; Trustpilot's refusal becomes ReplyRejected."""
        url = self._reply_url(target)
        body = {"authorBusinessUserId": self.options.business_user_id, "message": text}
        response = await self.http.request("POST", url, auth=self._reply_auth, json=body, allow=(400, 404, 409, 422))
        if response.status_code >= 400:
            raise ReplyRejected(self.http.redact(f"Trustpilot refused the reply ({response.status_code}): {self.http.reason(response)}"))
        return _posted_from(response, text)

    async def delete_reply(self, target: ReplyTarget) -> None:
        """Withdraw the company reply; a review or reply that is already gone (404) is fine."""
        url = self._reply_url(target)
        response = await self.http.request("DELETE", url, auth=self._reply_auth, allow=(400, 404, 409, 422))
        if response.status_code >= 400 and response.status_code != 404:
            raise ReplyRejected(self.http.redact(
                f"Trustpilot refused to delete the reply ({response.status_code}): {self.http.reason(response)}"))

    async def current_reply(self, target: ReplyTarget) -> PostedReply | None:
        """The company reply the review shows now, if any (read back after a crash)."""
        response = await self.http.request("GET", f"{self._base}/v1/reviews/{self._review_path(target)}", allow=(404,))
        if response.status_code == 404:
            return None  # the review is gone; posting will say so
        reply = _field(json_body(response), "companyReply")
        if not isinstance(reply, Mapping) or not reply.get("text"):
            return None
        return PostedReply(text=base.optional_text(reply.get("text"), "companyReply.text", limit=base.MAX_TEXT_CHARS),
                           posted_at=_lenient_time(reply.get("createdAt")))


def _lenient_time(value: Any) -> datetime | None:
    try:
        return base.timestamp(value, "createdAt")
    except InvalidRecord:
        return None


def _posted_from(response: httpx.Response, text: str) -> PostedReply:
    """What the 201 says, read leniently: its body is not documented and may be empty."""
    try:
        body = json_body(response) if response.content.strip() else None
    except BadResponse:
        body = None
    reply = body.get("reply", body) if isinstance(body, Mapping) else None
    if not isinstance(reply, Mapping):
        return PostedReply(text=text)
    reply_id = reply.get("id")
    return PostedReply(reply_id=str(reply_id) if isinstance(reply_id, str | int) else None,
                       posted_at=_lenient_time(reply.get("createdAt")), text=text)
