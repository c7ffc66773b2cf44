"""Yelp: the review excerpts the Places API (formerly Fusion, v3) shows for one business.

One request per poll: `GET /v3/businesses/{id or alias}/reviews` with the API key as a
bearer token. On the base plans Yelp answers with at most 3 reviews of its own choosing
(not the newest), each a truncated excerpt with a link to the full review, so every
review is marked `excerpt=True` and no poll is ever a full listing: `complete` is never
set and reviews Yelp stops showing are not marked removed. There is nothing to page or
resume; the cursor only records the newest review time seen. Yelp gives no update
time, no owner reply and no per-review language.

`time_created` is "YYYY-MM-DD HH:MM:SS" without a zone; Yelp means Pacific time, so it
is read in America/Los_Angeles and stored as UTC.

Rate limits: Yelp sends RateLimit-ResetTime (the daily reset) on every answer, the
per-second 429 included, so this connector reads the 429 itself rather than let Http
wait for that header. 429 TOO_MANY_REQUESTS_PER_SECOND is retried after a short wait
(Retry-After if sent, else backoff from a second); only 429 ACCESS_LIMIT_REACHED (the
daily allowance) waits for RateLimit-ResetTime, and when that is beyond the source's
time budget the poll fails at once saying the daily limit is used up.

Refusals, by Yelp's error code: 400 BUSINESS_NOT_FOUND (a wrong id or alias) fails the
source with Yelp's description. 404 NOT_FOUND from the reviews endpoint means the key's
plan has no access to reviews (new and trial keys; a maintainer's answer in Yelp's issue
tracker): NotAuthorised, saying so. 403 BUSINESS_UNAVAILABLE is Yelp withholding that
business, not a refusal of the key: the source fails (not "not authorised"), saying so;
any other 403 is NotAuthorised with Yelp's reason.

Replying needs Yelp's Respond-to-Reviews partner API (partner approval plus the owner's
OAuth grant), which ordinary accounts cannot get: this connector does not reply; an
approved draft is shown with the review's link to paste on Yelp for Business.

Not verified: whether paid plans return more than 3 reviews for `limit` above 3 (the
option allows up to 50); the exact 400 and 401 error codes; that `time_created` stays
put when a reviewer edits a review. See shared/platform-apis.md section 4.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from functools import cache
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import stamina
from pydantic import Field

from connectors import base
from connectors.auth import ApiKey
from connectors.base import Capabilities, InvalidRecord, Page, ReviewData, RowError
from connectors.errors import ConnectorError, NotAuthorised, RateLimited
from connectors.http import ATTEMPTS, Http, json_body, require, retry_after
from connectors.paging import latest_seen
from connectors.secrets import env_secret


@cache
def pacific() -> ZoneInfo:
    """Looked up when a Yelp source is built, so a system without time-zone data fails
    that source only, with a message saying what to install."""
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        raise ConnectorError("the time-zone database has no America/Los_Angeles; install the Python package tzdata") from None


class YelpOptions(base.Options):
    business_id: str = Field(pattern=r"^[^/?#\s]{1,255}$", description="the business id or its alias (the part after /biz/ in its Yelp URL)")
    api_key_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="environment variable holding the API key")
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}_[A-Z]{2}$", description="e.g. en_US; Yelp's default when unset")
    base_url: str = Field(default="https://api.yelp.com", pattern=r"^https?://", description="a proxy or test server may stand in")
    limit: int = Field(default=3, ge=1, le=50, description="reviews to ask for; base plans return at most 3")


def pacific_time(value: Any, name: str) -> datetime | None:
    """Yelp's zone-less Pacific time as an aware UTC datetime (an explicit offset wins)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{name} must be a time like '2026-04-18 19:32:11', not {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRecord(f"{name} {value[:60]!r} is not a time like '2026-04-18 19:32:11'") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=pacific())
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidRecord(f"{name} {value[:60]!r} is outside the years 1 to 9999 in UTC") from None


def error_code(response: httpx.Response) -> str | None:
    """Yelp's error code: {"error": {"code": "...", "description": "..."}}."""
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
        return None
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, str) else None


def review_from_yelp(record: Mapping[str, Any]) -> ReviewData:
    """Normalise one entry of `reviews`; raises InvalidRecord."""
    user = record.get("user")
    user = user if isinstance(user, Mapping) else {}
    return ReviewData(
        external_id=base.external_id(record.get("id")),
        text=base.review_text(record.get("text")),
        rating=base.star_rating(record.get("rating")),
        author=base.optional_text(user.get("name"), "user.name"),
        created_at=pacific_time(record.get("time_created"), "time_created"),
        url=base.optional_text(record.get("url"), "url"),
        excerpt=True,
        raw=base.sanitize(dict(record)),
    )


class YelpConnector:
    Options = YelpOptions
    capabilities = Capabilities(platform="Yelp", can_reply=False,
                                history="Yelp's API shows only a few review excerpts of its own choosing (3 on base "
                                        "plans), never a business's earlier reviews")

    def __init__(self, options: YelpOptions, *, http: Http):
        self.options = options
        self.http = http
        pacific()  # no time-zone data: fail this source now, not half-way through a poll
        key = env_secret(options.api_key_env, key="sources.api_key_env")
        http.auth = ApiKey("Authorization", key, env_name=options.api_key_env, prefix="Bearer ")

    def reviews_url(self) -> str:
        business = quote(unquote(self.options.business_id), safe="")  # an alias pasted from a URL may be %-encoded
        return f"{self.options.base_url.rstrip('/')}/v3/businesses/{business}/reviews"

    async def _read(self) -> list[Any]:
        params: dict[str, Any] = {"limit": self.options.limit}
        if self.options.locale:
            params["locale"] = self.options.locale
        response: httpx.Response | None = None
        async for attempt in stamina.retry_context(on=self._retry_wait, attempts=ATTEMPTS, timeout=max(self.http.remaining(), 0.0),
                                                   wait_initial=1.0, wait_max=30.0, wait_jitter=1.0):
            with attempt:
                response = await self.http.request("GET", self.reviews_url(), params=params, allow=(400, 403, 404, 429))
                if response.status_code == 429:
                    raise self._rate_limited(response)
        assert response is not None
        self._refused(response)
        body = json_body(response)
        require(isinstance(body, Mapping) and "reviews" in body, "Yelp's answer has no 'reviews' list")
        entries = body["reviews"] or []
        require(isinstance(entries, list), "Yelp's 'reviews' is not a list")
        return entries

    def _rate_limited(self, response: httpx.Response) -> RateLimited:
        reason = self.http.reason(response)
        if error_code(response) == "ACCESS_LIMIT_REACHED":
            return RateLimited(f"Yelp's daily API limit for this key is used up; polls work again once it resets ({reason})",
                               retry_after(response))
        header = response.headers.get("Retry-After", "").strip()  # never RateLimit-ResetTime: that is the daily reset
        return RateLimited(f"Yelp asks to slow down (429: {reason})", float(header) if header.isdigit() else None)

    def _retry_wait(self, exc: Exception) -> bool | float:
        """stamina's hook: a per-second 429 is retried soon; the daily one waits for its
        reset only when the source's time budget reaches that far."""
        if not isinstance(exc, RateLimited):
            return False
        if exc.retry_after is not None and exc.retry_after > self.http.remaining():
            exc.args = (f"{exc.args[0]}; Yelp asks to wait {exc.retry_after:.0f}s, more than this source's time budget left",)
            return False
        return exc.retry_after if exc.retry_after is not None else True

    def _refused(self, response: httpx.Response) -> None:
        """Yelp's refusals, told apart by its error code."""
        status, code, reason = response.status_code, error_code(response), self.http.reason(response)
        business = self.options.business_id
        if status == 400:
            raise ConnectorError(self.http.redact(f"Yelp refused the request for business {business!r}: {reason}"))
        if status == 404:
            raise NotAuthorised(self.http.redact(
                f"Yelp answered 404 for the reviews of business {business!r} ({reason}): this API key's plan has no access "
                "to reviews (new and trial keys often lack it; a business that does not exist is answered "
                "BUSINESS_NOT_FOUND instead); check the plan of the key in Yelp's developer portal"))
        if status == 403 and code == "BUSINESS_UNAVAILABLE":
            raise ConnectorError(self.http.redact(
                f"Yelp does not make business {business!r} available through its API ({reason}): this is a property of "
                "the business on Yelp, not of your API key; nothing in the credentials needs fixing"))
        if status == 403:
            raise NotAuthorised(self.http.redact(f"Yelp refused this API key for business {business!r} (403: {reason})"))

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        page = Page()
        for index, entry in enumerate(await self._read(), start=1):
            try:
                if not isinstance(entry, Mapping):
                    raise InvalidRecord(f"expected an object, got {type(entry).__name__}")
                page.reviews.append(review_from_yelp(entry))
            except InvalidRecord as exc:
                page.errors.append(RowError(f"review {index}", str(exc), raw=base.sanitize(entry)))
        page.cursor = latest_seen(cursor, page.reviews)
        yield page  # a handful of reviews chosen by Yelp: never a complete listing
