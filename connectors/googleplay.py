"""Google Play: the reviews of your own app, through the Google Play Developer API v3
("Reply to Reviews"), read with a service account and answered through the same API.

Reads `GET /androidpublisher/v3/applications/{package}/reviews`, newest change first,
`max_results` a page, following `tokenPagination.nextPageToken` (absent on the last
page). A poll stops after the page that reaches reviews older than the high-water mark
saved last time (the newest `lastModified` seen) less `margin`; every `full_sync_every`
it reads the whole listing instead, to pick up reviews Google indexed late and replies
posted in Play Console (a reply leaves `userComment.lastModified`, the mark, alone).

What it cannot see (Google's documented limits):
- only reviews created or changed in roughly the last 7 days are listed, so the listing
  is never the whole history: a review that drops out of it has aged out, not been
  removed, and no page is ever marked complete. Poll at least every few days
  (capabilities.retention), or reviews are lost for good (Play Console's CSV export
  is the only way back to them);
- only production-track reviews, and only reviews with text: a rating without a
  comment is invisible;
- no creation time (created_at stays empty) and no reviewer location.

Mapping: `userComment.text` holds "title<TAB>body" when the reviewer wrote both, so it
is split on the first tab. With `translation_language` set, Google translates reviews
in other languages: `originalText` then holds the reviewer's words (stored as the text)
and `userComment.text` the translation. `reviewerLanguage` is the device's language,
not necessarily the review's. Timestamps are {"seconds": "<int as a string>", "nanos"}.

Backfill: reads the whole listing page by page like a full poll, resumable at the saved
page token (a token Google refuses with 400 reads the listing again from its start). It
reaches no further back than a poll: about the last 7 days.

Replies: `POST …/reviews/{id}:reply` with {"replyText": ...}; replying again replaces
the reply, so a retry after a crash is safe. Google strips HTML tags and refuses
replies over 350 characters (400, its reason is passed on); a 403 means the service
account lacks the "Reply to reviews" permission in Play Console.

Quotas: an older per-app limit of 200 GET requests an hour (and 2,000 replies a day)
is still the safest assumption; polling more often than every ~5 minutes only spends
it. Google answers 429 RESOURCE_EXHAUSTED when it runs out (Http waits and retries).

Unverified: the largest `maxResults` Google accepts (100 assumed); the exact format of
`reviewerLanguage` (only its primary subtag is kept); whether a reply made in Play
Console moves a review up the listing (assumed not: the periodic full read finds it);
whether replying to a review older than the listing window works; the error status
for a reply to a review that no longer exists (404 and 409 are treated as refusals).
See shared/platform-apis.md section 3.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import Field

from connectors import base
from connectors.auth import GoogleServiceAccount
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
from connectors.errors import ReplyRejected
from connectors.http import Http, json_body, require
from connectors.paging import BACKFILL_DONE, PageGuard, SyncPlan, backfill_done, backfill_guard, resume_page

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
PACKAGE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+$"
log = logging.getLogger("reviewmon.connectors.googleplay")


class GooglePlayOptions(base.Options):
    package_name: str = Field(pattern=PACKAGE_PATTERN, description="the app's package name, e.g. com.example.app")
    service_account_file: Path = Field(description="the service account's JSON key file; relative to the config file")
    token_url: str | None = Field(default=None, pattern=r"^https?://", description="default: the key file's token_uri")
    base_url: str = Field(default="https://androidpublisher.googleapis.com", pattern=r"^https?://",
                          description="a proxy or test server may stand in")
    translation_language: str | None = Field(
        default=None, pattern=r"^en(?:[_-][A-Za-z]{2})?$",
        description="ask Google for English translations (reviewmon scores translations as English)")
    max_results: int = Field(default=100, ge=1, le=100, description="reviews a page (Google's maximum is unverified)")
    max_pages: int = Field(default=50, ge=1, le=1000)
    full_sync_every: Duration = Field(default=timedelta(days=1), description="how often to re-read the whole week")
    margin: Duration = Field(default=timedelta(hours=1), description="read this far past the newest change seen last time")


# --- one review ------------------------------------------------------------------------


def _whole_number(value: Any, name: str) -> int:
    """An int, or an int sent as a string (how Google's JSON writes 64-bit numbers)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRecord(f"{name} must be a whole number, not {value!r:.40}")
    try:
        return int(value)
    except ValueError:
        raise InvalidRecord(f"{name} {value!r:.40} is not a whole number") from None


def play_time(value: Any, name: str) -> datetime | None:
    """Google's {"seconds": "<int>", "nanos": <int>} as an aware UTC datetime."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRecord(f"{name} must be an object with seconds and nanos, not {type(value).__name__}")
    seconds = _whole_number(value.get("seconds"), f"{name}.seconds")
    nanos = _whole_number(value.get("nanos", 0), f"{name}.nanos")
    if not 0 <= nanos < 1_000_000_000:
        raise InvalidRecord(f"{name}.nanos {nanos} is outside 0 to 999999999")
    try:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise InvalidRecord(f"{name}.seconds {seconds} is not a time we can read") from None
    return moment + timedelta(microseconds=nanos // 1000)


def title_and_body(value: Any, name: str) -> tuple[str | None, str]:
    """Split "title<TAB>body" (Google's way of sending both) into its two parts."""
    text = base.review_text(value, name)
    head, tab, tail = text.partition("\t")
    if not tab:
        return None, text
    return base.optional_text(head, f"{name} title"), tail.strip()


def _comments(value: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The reviewer's comment and the developer's reply (empty when there is none)."""
    if not isinstance(value, list):
        raise InvalidRecord("comments is missing" if value is None
                            else f"comments must be a list, not {type(value).__name__}")
    found: dict[str, Mapping[str, Any]] = {}
    for comment in value:
        for kind in ("userComment", "developerComment"):
            if isinstance(comment, Mapping) and isinstance(comment.get(kind), Mapping):
                found.setdefault(kind, comment[kind])
    if "userComment" not in found:
        raise InvalidRecord("comments holds no userComment")
    return found["userComment"], found.get("developerComment", {})


def _language(value: Any) -> str | None:
    """The primary subtag ("pt" of "pt_BR"): the service expects ISO 639-1."""
    code = base.optional_text(value, "reviewerLanguage")
    if code is None:
        return None
    return re.split(r"[_-]", code, maxsplit=1)[0].lower()[:16] or None


def review_url(package: str, review_id: str) -> str:
    return f"https://play.google.com/store/apps/details?id={package}&reviewId={quote(review_id, safe='')}"


def review_to_data(record: Mapping[str, Any], *, package: str) -> ReviewData:
    """Normalise one review of reviews.list; raises InvalidRecord."""
    review_id = base.external_id(record.get("reviewId"))
    user, developer = _comments(record.get("comments"))
    original = user.get("originalText")
    translation = None
    if original:  # Google translated it: originalText is what the reviewer wrote
        title, text = title_and_body(original, "originalText")
        translated_title, translated_body = title_and_body(user.get("text"), "userComment.text")
        translation = "\n".join(p for p in (translated_title, translated_body) if p) or None
    else:
        title, text = title_and_body(user.get("text"), "userComment.text")
    return ReviewData(
        external_id=review_id,
        text=text,
        title=title,
        rating=base.star_rating(user.get("starRating")),
        author=base.optional_text(record.get("authorName"), "authorName"),
        updated_at=play_time(user.get("lastModified"), "userComment.lastModified"),
        url=review_url(package, review_id),
        owner_reply=base.optional_text(developer.get("text"), "developerComment.text", limit=base.MAX_TEXT_CHARS),
        language=_language(user.get("reviewerLanguage")),
        translation=translation,
        raw=base.sanitize(record),
    )


def _reviews_and_next(body: Any) -> tuple[list[Any], str | None]:
    """The page's reviews and the token of the next page (None on the last one)."""
    require(isinstance(body, Mapping), "the reviews list is not a JSON object")
    reviews = body.get("reviews")
    require(reviews is None or isinstance(reviews, list), "the reviews list's 'reviews' is not a list")
    paging = body.get("tokenPagination")
    require(paging is None or isinstance(paging, Mapping), "the reviews list's 'tokenPagination' is not an object")
    token = (paging or {}).get("nextPageToken")
    require(token is None or isinstance(token, str), "the reviews list's nextPageToken is not text")
    return reviews or [], token or None


# --- the connector -----------------------------------------------------------------------


class GooglePlayConnector:
    Options = GooglePlayOptions
    capabilities = Capabilities(
        platform="Google Play", can_reply=True, reply_limit=ReplyLimit(350, "characters"), reply_upsert=True,
        retention=timedelta(days=7),
        history="only reviews written or changed in about the last 7 days: Google lists no older ones "
                "(Play Console's CSV export has the rest)",
    )

    def __init__(self, options: GooglePlayOptions, *, http: Http):
        self.options = options
        self.http = http
        http.auth = GoogleServiceAccount(options.service_account_file, scope=SCOPE, token_url=options.token_url)

    @property
    def app_url(self) -> str:
        return f"{self.options.base_url.rstrip('/')}/androidpublisher/v3/applications/{self.options.package_name}"

    async def _list(self, token: str | None, *, allow: tuple[int, ...] = ()) -> Any:
        params: dict[str, Any] = {"maxResults": self.options.max_results}
        if token:
            params["token"] = token
        if self.options.translation_language:
            params["translationLanguage"] = self.options.translation_language
        return await self.http.request("GET", f"{self.app_url}/reviews", params=params, allow=allow)

    async def _read_page(self, token: str | None) -> tuple[list[Any], str | None]:
        return _reviews_and_next(json_body(await self._list(token)))

    async def _resume_page(self, token: str) -> tuple[list[Any], str | None] | None:
        """The page a token saved by an earlier backfill names; None when Google refuses
        the token (400): it has expired."""
        response = await self._list(token, allow=(400,))
        if response.status_code == 400:
            log.info("Google Play refused a saved page token: %s", self.http.reason(response))
            return None
        return _reviews_and_next(json_body(response))

    async def backfill(self, resume: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """Every page Google lists (about a week), from the start or from `resume`
        ({"page", "token"}: the next page)."""
        if backfill_done(resume):
            return
        guard = backfill_guard()
        token = resume.get("token") if resume and isinstance(resume.get("token"), str) else None
        number = resume_page(resume) if token else 1
        resuming = token is not None
        if token:
            guard.seen_tokens.add(token)
        while True:
            answer = await self._resume_page(token) if resuming and token else await self._read_page(token)
            resuming = False
            if answer is None:
                log.warning("Google Play no longer takes the saved page token of page %d: reading the listing again "
                            "from its first page (reviews read twice are stored once)", number)
                token, number, guard = None, 1, backfill_guard()
                continue
            records, token = answer
            page, _ = self._page(number, records)
            if token is not None and not guard.next_page(token):
                page.errors.append(guard.stopped)
                token = None
            page.cursor = {"page": number + 1, "token": token} if token else dict(BACKFILL_DONE)
            yield page
            if token is None:
                return
            number += 1

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """Pages newest-first until the end, the known reviews, or a PageGuard stop.
        Never `complete`: the listing holds only the last week (see the module docstring)."""
        o = self.options
        plan = SyncPlan.make(cursor, full_sync_every=o.full_sync_every, margin=o.margin)
        guard = PageGuard(o.max_pages, pages=1)  # the first page counts towards max_pages
        token: str | None = None
        newest: datetime | None = None
        for number in range(1, o.max_pages + 1):
            records, token = await self._read_page(token)
            page, oldest = self._page(number, records)
            newest = max((t for t in (newest, *(r.updated_at for r in page.reviews)) if t is not None), default=None)
            if token is not None and not plan.reached_known(oldest) and guard.next_page(token):
                yield page
                continue
            if guard.stopped is not None:
                page.errors.append(guard.stopped)
            page.cursor = plan.cursor_after(newest, complete=token is None)
            yield page
            return

    def _page(self, number: int, records: list[Any]) -> tuple[Page, datetime | None]:
        """One page: the reviews that read, a RowError for each that did not, and the
        oldest change on it (for the incremental stop)."""
        page = Page()
        oldest: datetime | None = None
        for index, record in enumerate(records, start=1):
            try:
                if not isinstance(record, Mapping):
                    raise InvalidRecord(f"expected an object, got {type(record).__name__}")
                review = review_to_data(record, package=self.options.package_name)
            except InvalidRecord as exc:
                page.errors.append(RowError(f"page {number}, review {index}", str(exc), raw=base.sanitize(record)))
                continue
            page.reviews.append(review)
            if review.updated_at is not None and (oldest is None or review.updated_at < oldest):
                oldest = review.updated_at
        return page, oldest

    async def post_reply(self, target: ReplyTarget, text: str) -> PostedReply:
        """Post or replace our reply; Google answers with the text it kept and when."""
        url = f"{self.app_url}/reviews/{quote(target.external_id, safe='')}:reply"
        response = await self.http.request("POST", url, json={"replyText": text}, allow=(400, 404, 409))
        if response.status_code >= 400:
            raise ReplyRejected(self.http.redact(f"Google Play refused the reply to review {target.external_id} "
                                                 f"({response.status_code}): {self.http.reason(response)}"))
        body = json_body(response)
        result = body.get("result") if isinstance(body, Mapping) else None
        result = result if isinstance(result, Mapping) else {}
        try:
            posted_at = play_time(result.get("lastEdited"), "result.lastEdited")
        except InvalidRecord:
            posted_at = None  # Google took the reply; a strange time is no reason to say otherwise
        kept = result.get("replyText")
        return PostedReply(posted_at=posted_at, text=kept if isinstance(kept, str) else None)
