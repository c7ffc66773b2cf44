"""Google Business Profile (API v4): the reviews of one or more locations, and replies.

Reads GET /v4/accounts/{a}/locations/{l}/reviews newest change first (orderBy=updateTime
desc, pageSize <= 50; no nextPageToken on the last page, no `reviews` when there are none).
Edits bump updateTime, so an incremental poll of a location stops at the first page that
reaches reviews older than that location's high-water mark less `margin`. Page 1 is always
read (Google is known to skip reviews on later pages); every `full_sync_every` all pages of
all locations are read and the poll is complete. The cursor keeps one mark per location
({"latest", "full_sync_at", "locations": {id: time}}), so a location added later is read in
full at once. A listing with an unreadable review is not complete: unreadable is not removed.

Backfill: every page of every location, locations in the order configured, newest change
first; the resume cursor names the location and the pageToken of the next page. Google
answers a page token it no longer takes with 400 INVALID_ARGUMENT (how long tokens live is
undocumented): a resumed backfill then reads that location again from its first page.

Replies: PUT /v4/{review name}/reply creates or replaces the owner reply (an upsert, so a
retry after a crash is safe), at most 4096 UTF-8 bytes; DELETE removes it; 400/404/409 is
ReplyRejected with Google's reason. Google moderates replies after they are taken: the
reply's moderation state (ReviewReplyState: PENDING, REJECTED, APPROVED, 2026-04
changelog) is read as `owner_reply_state` and as the posted reply's state. Google allows
10 edits a minute per Business Profile (not raisable): `edits_per_minute` tells the
poster to pace its batches per location.

A Cloud project not approved for the Business Profile APIs has a quota of 0 and gets 429
with `quota_limit_value: "0"`: the first request of a poll or reply allows 429 and turns
that answer into NotAuthorised; any other 429 goes on to Http's backoff (a Retry-After on
that very first 429 is not honoured; Google rarely sends one).

A review's `reviewReplyUrl` (2026-07 changelog) is its link where present.
Cannot see: unverified locations, reviewer ids, a language (the service detects it). Google's translation arrives inside `comment` as "(Translated by Google) <en>
\n\n(Original)\n<original>" and is split into text (original) and translation.
Unverified, coded defensively: the reverse "(Original) ... (Translated by Google) ..."
order, the JSON name of the reply's state (`reviewReplyState`, else `state`, on the
reply; any value is kept as sent), a `url` field, this API's quota-0 detail shape, and
that anonymous reviewers lack displayName. A review without `name` gets one built in `raw`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field, field_validator

from connectors import base
from connectors.auth import OAuthRefreshToken
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
from connectors.errors import ConnectorError, NotAuthorised, ReplyRejected
from connectors.http import Http, json_body, require
from connectors.paging import BACKFILL_DONE, PageGuard, SyncPlan, backfill_done, backfill_guard, resume_page
from connectors.secrets import env_secret

STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
REPLY_LIMIT = ReplyLimit(4096, "bytes")
REPLY_STATE_FIELDS = ("reviewReplyState", "state")  # the first the reply has wins
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_REVIEW_NAME = re.compile(r"^accounts/([^/]+)/locations/([^/]+)/reviews/([^/]+)$")
_TRANSLATED, _ORIGINAL = "(Translated by Google)", "(Original)"
# The second marker starts a line (blank lines and spaces before it allowed). No `\s*`
# spans lines here: the regexes that did backtracked in cubic time on a comment of
# thousands of blank lines.
_SECOND_MARKER = {marker: re.compile(r"\n[^\S\n]*" + re.escape(marker)) for marker in (_TRANSLATED, _ORIGINAL)}
log = logging.getLogger("reviewmon.connectors.google")


def _plain_id(value: str, prefix: str) -> str:
    """Accept "123", "accounts/123" or a full resource name; keep the last id."""
    value = value.strip()
    if prefix in value:
        value = value.rsplit(prefix, 1)[1].strip("/")
    if not _ID.match(value):
        kind = prefix.strip("/")[:-1]
        raise ValueError(f"{value!r} is not a Google {kind} id (digits, as in accounts/123/locations/456)")
    return value


class GoogleOptions(base.Options):
    account_id: str = Field(description="the account that manages the locations (accounts/{id})")
    location_ids: list[str] = Field(min_length=1, description="the locations to read (locations/{id})")
    client_id_env: str = Field(default="GOOGLE_CLIENT_ID", pattern=ENV_NAME)
    client_secret_env: str = Field(default="GOOGLE_CLIENT_SECRET", pattern=ENV_NAME)
    refresh_token_env: str = Field(default="GOOGLE_REFRESH_TOKEN", pattern=ENV_NAME)
    token_url: str = Field(default="https://oauth2.googleapis.com/token", pattern=r"^https?://")
    base_url: str = Field(default="https://mybusiness.googleapis.com", pattern=r"^https?://",
                          description="a proxy or test server may stand in")
    page_size: int = Field(default=50, ge=1, le=50)
    max_pages: int = Field(default=100, ge=1, le=10_000, description="per location and poll")
    full_sync_every: Duration = Field(default=timedelta(days=1), description="how often every page is read")
    margin: Duration = Field(default=timedelta(hours=1), description="read back this far past the high-water mark")

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str) -> str:
        return _plain_id(value, "accounts/")

    @field_validator("location_ids")
    @classmethod
    def _locations(cls, values: list[str]) -> list[str]:
        ids = [_plain_id(v, "locations/") for v in values]
        doubled = sorted({i for i in ids if ids.count(i) > 1})
        if doubled:
            raise ValueError(f"location_ids lists {', '.join(doubled)} more than once")
        return ids


def _time(value: Any, name: str) -> datetime | None:
    """RFC 3339 with 0-9 fractional digits, 'Z' or an offset, in either case."""
    if not isinstance(value, str):
        return base.timestamp(value, name)
    try:
        return base.timestamp(value.strip().upper(), name)
    except InvalidRecord:
        raise InvalidRecord(f"{name} {value[:60]!r} is not an RFC 3339 time") from None


def _rating(value: Any) -> int | None:
    if value in (None, "", "STAR_RATING_UNSPECIFIED"):
        return None
    return STARS[value] if isinstance(value, str) and value in STARS else base.star_rating(value)


def split_translation(comment: str) -> tuple[str, str | None]:
    """(original, English translation) from Google's translation envelope; a comment
    without one, or whose original part is empty, comes back whole."""
    for first, second in ((_TRANSLATED, _ORIGINAL), (_ORIGINAL, _TRANSLATED)):
        if not comment.startswith(first):
            continue
        found = _SECOND_MARKER[second].search(comment, len(first))
        if found is None:
            continue
        parts = {first: comment[len(first):found.start()], second: comment[found.end():]}
        original, translation = parts[_ORIGINAL].strip(), parts[_TRANSLATED].strip()
        return (original, translation or None) if original else (comment, None)
    return comment, None


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if value is not None and not isinstance(value, Mapping):
        raise InvalidRecord(f"{name} must be an object, not {type(value).__name__}")
    return value or {}


def review_to_data(record: Mapping[str, Any], *, account_id: str, location_id: str) -> ReviewData:
    """Normalise one Google Review object; raises InvalidRecord."""
    review_id = base.external_id(record.get("reviewId"))
    updated = _time(record.get("updateTime"), "updateTime")
    created = _time(record.get("createTime"), "createTime")
    if updated is None and created is None:
        raise InvalidRecord("updateTime and createTime are both missing")
    text, translation = split_translation(base.review_text(record.get("comment"), "comment"))
    reply = _object(record.get("reviewReply"), "reviewReply")
    raw = base.sanitize(dict(record))
    if not isinstance(raw.get("name"), str):  # replies need it; Google documents it on every review
        raw["name"] = f"accounts/{account_id}/locations/{location_id}/reviews/{review_id}"
    return ReviewData(
        external_id=review_id,
        text=text,
        translation=translation,
        rating=_rating(record.get("starRating")),
        author=base.optional_text(_object(record.get("reviewer"), "reviewer").get("displayName"), "reviewer.displayName"),
        location=location_id,
        created_at=created or updated,
        updated_at=updated or created,
        url=base.optional_text(record.get("reviewReplyUrl"), "reviewReplyUrl") or base.optional_text(record.get("url"), "url"),
        owner_reply=base.optional_text(reply.get("comment"), "reviewReply.comment", limit=base.MAX_TEXT_CHARS),
        owner_reply_state=reply_state(reply),
        raw=raw,
    )


def reply_state(reply: Mapping[str, Any]) -> str | None:
    """The reply's moderation state as Google sends it; None when absent or not text."""
    for field in REPLY_STATE_FIELDS:
        if isinstance(reply.get(field), str) and reply[field].strip():
            return base.clean_text(reply[field].strip())[:50]
    return None


def quota_is_zero(response: httpx.Response) -> bool:
    """Google's 'this project may make 0 requests' answer (ErrorInfo metadata)."""
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return False
    details = error.get("details") if isinstance(error, Mapping) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, Mapping):
            metadata = detail.get("metadata") if isinstance(detail.get("metadata"), Mapping) else detail
            if str(metadata.get("quota_limit_value", "")).strip() == "0":
                return True
    return False


@dataclass
class _LocationRead:
    """One location's part of a poll."""

    location: str
    mark: datetime | None  # its newest change stored before this poll
    stop_before: datetime | None  # None: read every page
    newest: datetime | None = None
    to_the_end: bool = False
    unreadable: int = 0

    @property
    def latest(self) -> datetime | None:
        return max((t for t in (self.newest, self.mark) if t is not None), default=None)


class GoogleBusinessConnector:
    Options = GoogleOptions
    capabilities = Capabilities(platform="Google", can_reply=True, reply_limit=REPLY_LIMIT, reply_upsert=True, edits_per_minute=10,
                                history="every review of each location (Google lists them all)")

    def __init__(self, options: GoogleOptions, *, http: Http):
        self.options = options
        self.http = http
        names = (options.client_id_env, options.client_secret_env, options.refresh_token_env)
        keys = ("client_id_env", "client_secret_env", "refresh_token_env")
        client_id, client_secret, refresh_token = (env_secret(n, key=f"sources.{k}") for n, k in zip(names, keys))
        http.auth = OAuthRefreshToken(token_url=options.token_url, client_id=client_id, client_secret=client_secret,
                                      refresh_token=refresh_token, env_names=names, client_auth="body")
        self._approval_known = False

    @property
    def _base(self) -> str:
        return self.options.base_url.rstrip("/")

    async def _request(self, method: str, url: str, *, allow: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """Http's request; the first one also tells 'not approved' (a quota of 0) from 'slow down'."""
        if self._approval_known:
            return await self.http.request(method, url, allow=allow, **kwargs)
        response = await self.http.request(method, url, allow=(*allow, 429), **kwargs)
        self._approval_known = True
        if response.status_code != 429:
            return response
        if quota_is_zero(response):
            raise NotAuthorised(self.http.redact(
                "Google allows this Cloud project 0 requests to the Business Profile APIs: it is not approved for API "
                f"access yet (apply for Basic API Access, then wait for approval); {self.http.reason(response)}"))
        return await self.http.request(method, url, allow=allow, **kwargs)

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        o = self.options
        plan = SyncPlan.make(cursor, full_sync_every=o.full_sync_every, margin=o.margin)
        marks = _location_marks(cursor)
        reads = []
        for location in o.location_ids:
            mark = marks.get(location)
            read = _LocationRead(location, mark, stop_before=None if plan.full or mark is None else mark - o.margin)
            reads.append(read)
            async for page in self._read_location(read):
                yield page
        complete = all(r.to_the_end and not r.unreadable for r in reads)
        latest = {r.location: r.latest for r in reads if r.latest is not None}
        next_cursor = plan.cursor_after(max(latest.values(), default=None), complete=complete)
        next_cursor["locations"] = {location: when.isoformat() for location, when in latest.items()}
        yield Page(cursor=next_cursor, complete=complete)

    async def _read_location(self, read: _LocationRead) -> AsyncIterator[Page]:
        guard = PageGuard(self.options.max_pages)
        guard.next_page(None)  # page 1 counts towards max_pages too
        token: str | None = None
        for number in range(1, self.options.max_pages + 1):
            body = await self._list(read.location, token)
            page, oldest = self._page(read, number, body)
            token = body.get("nextPageToken") if isinstance(body.get("nextPageToken"), str) else None
            if not token:
                read.to_the_end = True
            elif read.stop_before is not None and oldest is not None and oldest < read.stop_before:
                token = None  # reached reviews stored last time
            elif not guard.next_page(token):
                page.errors.append(RowError(guard.stopped.where, f"location {read.location}: {guard.stopped.message}"))
                token = None
            yield page
            if not token:
                return

    async def backfill(self, resume: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """Every page of every location, from `resume` ({"location", "page", "page_token"}:
        the page to read next) or the start. A resume point in a location that is no longer
        configured starts again from the first location."""
        if backfill_done(resume):
            return
        locations = self.options.location_ids
        start, token, number = 0, None, 1
        if resume and resume.get("location") in locations:
            start = locations.index(resume["location"])
            token = resume.get("page_token") if isinstance(resume.get("page_token"), str) else None
            number = resume_page(resume) if token else 1
        elif resume:
            log.warning("Google: the backfill was to resume in location %s, which is no longer configured; "
                        "starting again from the first location", str(resume.get("location"))[:40])
        for index in range(start, len(locations)):
            following = locations[index + 1] if index + 1 < len(locations) else None
            async for page in self._backfill_location(locations[index], token, number, following):
                yield page
            token, number = None, 1

    async def _backfill_location(self, location: str, token: str | None, number: int, following: str | None) -> AsyncIterator[Page]:
        read = _LocationRead(location, mark=None, stop_before=None)
        guard = backfill_guard()
        if token:
            guard.seen_tokens.add(token)
        resuming = token is not None
        while True:
            body = await self._list(location, token, resumed=resuming)
            resuming = False
            if body is None:  # the saved token has expired: this location from its first page
                log.warning("Google no longer takes the saved page token of location %s (page %d): reading that "
                            "location again from its first page (reviews read twice are stored once)", location, number)
                token, number, guard = None, 1, backfill_guard()
                continue
            page, _ = self._page(read, number, body)
            token = body.get("nextPageToken") if isinstance(body.get("nextPageToken"), str) and body["nextPageToken"] else None
            if token and not guard.next_page(token):
                page.errors.append(RowError(guard.stopped.where, f"location {location}: {guard.stopped.message}"))
                token = None
            if token:
                page.cursor = {"location": location, "page": number + 1, "page_token": token}
            elif following:
                page.cursor = {"location": following, "page": 1, "page_token": None}
            else:
                page.cursor = dict(BACKFILL_DONE)
            yield page
            if not token:
                return
            number += 1

    async def _list(self, location: str, token: str | None, *, resumed: bool = False) -> Any:
        """One page of a location's listing. With `resumed` (a page token saved by an earlier
        backfill), None when Google refuses the token (400): it has expired."""
        url = f"{self._base}/v4/accounts/{self.options.account_id}/locations/{location}/reviews"
        params = {"pageSize": self.options.page_size, "orderBy": "updateTime desc"}
        if token:
            params["pageToken"] = token
        response = await self._request("GET", url, params=params, allow=(400, 404) if resumed else (404,))
        if response.status_code == 400:
            log.info("Google refused a saved page token of location %s: %s", location, self.http.reason(response))
            return None
        if response.status_code == 404:
            raise ConnectorError(self.http.redact(
                f"Google knows no location {location} under account {self.options.account_id} (404: "
                f"{self.http.reason(response)}); check account_id, location_ids and that the location is verified"))
        return json_body(response)

    def _page(self, read: _LocationRead, number: int, body: Any) -> tuple[Page, datetime | None]:
        where = f"page {number} of location {read.location}"
        require(isinstance(body, Mapping), f"Google answered {where} with no JSON object")
        records = body.get("reviews") or []
        require(isinstance(records, list), f"'reviews' on {where} is not a list")
        page, oldest = Page(), None
        for index, record in enumerate(records, start=1):
            try:
                if not isinstance(record, Mapping):
                    raise InvalidRecord(f"expected an object, got {type(record).__name__}")
                review = review_to_data(record, account_id=self.options.account_id, location_id=read.location)
            except InvalidRecord as exc:
                read.unreadable += 1
                where_exactly = f"location {read.location}, page {number}, review {index}"
                page.errors.append(RowError(where_exactly, str(exc), raw=base.sanitize(record)))
                continue
            page.reviews.append(review)
            changed = review.updated_at
            oldest = changed if oldest is None or changed < oldest else oldest
            read.newest = changed if read.newest is None or changed > read.newest else read.newest
        return page, oldest

    def _reply_url(self, target: ReplyTarget) -> str:
        name = target.raw.get("name") if isinstance(target.raw, Mapping) else None
        match = _REVIEW_NAME.match(name) if isinstance(name, str) else None
        if match is None or any(part in (".", "..") for part in match.groups()):
            raise ConnectorError(f"review {target.external_id} has no Google resource name in its stored record, "
                                 "so it cannot be replied to")
        account, location, review = (quote(part, safe="") for part in match.groups())
        return f"{self._base}/v4/accounts/{account}/locations/{location}/reviews/{review}/reply"

    async def post_reply(self, target: ReplyTarget, text: str) -> PostedReply:
        """Create or replace the owner reply; Google moderates it afterwards."""
        if REPLY_LIMIT.measure(text) > REPLY_LIMIT.limit:
            size = REPLY_LIMIT.measure(text)
            raise ReplyRejected(f"the reply is {size} UTF-8 bytes; Google takes at most {REPLY_LIMIT.limit}")
        url = self._reply_url(target)
        response = await self._request("PUT", url, json={"comment": text}, allow=(400, 404, 409))
        self._refused(response, "the reply")
        body = json_body(response)
        require(isinstance(body, Mapping), "Google answered the reply with no JSON object")
        try:
            posted_at = _time(body.get("updateTime"), "updateTime")
        except InvalidRecord:
            posted_at = None
        shown = body.get("comment")
        return PostedReply(reply_id=url.removeprefix(f"{self._base}/v4/"), posted_at=posted_at, state=reply_state(body),
                           text=shown if isinstance(shown, str) else text)

    async def delete_reply(self, target: ReplyTarget) -> None:
        """Remove the owner reply; a review or reply that is already gone is fine."""
        response = await self._request("DELETE", self._reply_url(target), allow=(400, 404, 409))
        if response.status_code != 404:
            self._refused(response, "deleting the reply")

    def _refused(self, response: httpx.Response, what: str) -> None:
        status, reason = response.status_code, self.http.reason(response)
        if status in (400, 409):
            raise ReplyRejected(self.http.redact(f"Google refused {what} ({status}): {reason}"))
        if status == 404:
            raise ReplyRejected(self.http.redact(f"Google no longer has this review (404): {reason}"))


def _location_marks(cursor: Mapping[str, Any] | None) -> dict[str, datetime]:
    """Each location's saved high-water mark; an unreadable one is dropped (read in full)."""
    saved = (cursor or {}).get("locations")
    marks: dict[str, datetime] = {}
    for location, value in saved.items() if isinstance(saved, Mapping) else ():
        with contextlib.suppress(InvalidRecord):
            if when := base.timestamp(value, "cursor.locations"):
                marks[str(location)] = when
    return marks
