"""Reviews a web page publishes as schema.org JSON-LD: a business's own site, a directory.

Reads every `<script type="application/ld+json">` block of the page at `url` (and of each
of `pages`). A block may be an object, a list or hold an `@graph`; reviews are objects
typed Review or any schema.org subtype of it (UserReview, CriticReview, EmployerReview,
ClaimReview, MediaReview, Recommendation, ReviewNewsArticle), bare, prefixed ("schema:")
or as a URL, alone or in a list of types, anywhere in it, e.g. under a LocalBusiness's
or Product's `review`. AggregateRating is a summary:
no row. The walk is bounded: a block nested deeper than MAX_DEPTH levels is a row error.

Mapping: `author` (text, or an object's `name`; of a list, the first) -> author;
`reviewBody` (else `description`, missing -> "") -> text, kept exactly, HTML included
(the web app escapes it); `headline` (else `name`, which some sites fill with the thing
reviewed) -> title; `datePublished` (a bare date is midnight UTC)
-> created_at; `dateModified` -> updated_at; `inLanguage` -> language. `reviewRating`'s
`ratingValue` (number or text, "4,5" too) is scaled from worstRating..bestRating
(default 1..5) to 1..5 and rounded to the nearest whole star, halves up (4.5 of 5 -> 5,
8 of 10 -> 4); no rating -> None.

Identity: the review's `@id`, else its `url`, resolved against the page (a blank node
"_:b0" or the page's own URL does not count). Most pages give neither: the id is then a
hash of (author, datePublished, reviewBody with whitespace collapsed), so an edited
body looks like a new review plus a removed one. A review shown twice is stored once;
the same id with different content is a row error.

Every poll reads every page whole (no incremental stop) and yields them once all are
read. If every page was HTML and every block parsed, the last page is `complete`, so
reviews gone from the page are marked removed (an unreadable review among them too).
An empty or non-HTML page, a malformed block or the max_reviews cap leaves the poll
incomplete, with a row error saying why. The cursor is a hash of what was found: an
unchanged poll yields nothing. A 404 or other refusal fails the source (Http's errors,
which never quote an error page). A page over MAX_PAGE_BYTES (5 MB, counted unzipped)
fails the source too: Http abandons it as it passes the limit, so nothing is stored.
A redirect is followed only on the page's own host (Http's rules).

Cannot see: reviews a widget loads with JavaScript (not in the HTML), microdata/RDFa,
owner replies (schema.org has no standard property). No replies; the platform is unknown
(`platform` option, default "").
Unverified: that sites escape "</" inside JSON-LD (an unescaped "</script>" in a review
ends its block early: that block is a row error and the rest is read as HTML, so on such
a site a reviewer can plant a review); that Google's refusal to show self-serving
LocalBusiness review markup leaves many business sites without individual reviews
(shared/platform-apis.md section 8).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
from bs4 import BeautifulSoup, SoupStrainer
from pydantic import Field

from connectors import base
from connectors.base import Capabilities, InvalidRecord, Page, ReviewData, RowError
from connectors.http import Http

MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
MAX_EXTRA_PAGES = 50
# Review and its subtypes in schema.org (ReviewNewsArticle under CriticReview)
REVIEW_TYPES = {"Review", "UserReview", "CriticReview", "EmployerReview", "ClaimReview", "MediaReview", "Recommendation",
                "ReviewNewsArticle"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
HASH_VERSION = "jsonld-2"  # part of the cursor hash: a new mapping re-reads once
HISTORY = ("a page shows only the reviews on it now, and every poll already reads all of them; "
           "earlier reviews are not published in it")
HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$")]


class JsonLdOptions(base.Options):
    url: HttpUrl = Field(description="the page whose JSON-LD lists the reviews (a test server may stand in)")
    pages: tuple[HttpUrl, ...] = Field(default=(), max_length=MAX_EXTRA_PAGES, description="further pages of the same source")
    max_reviews: int = Field(default=1000, ge=1, le=100_000)
    platform: str = Field(default="", max_length=100, description="where the reviews were published, as replies may name it")


def _value(value: Any) -> Any:
    """A JSON-LD value without its wrapping: the first of a list, the @value of a value object."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Mapping) and "@value" in value:
        value = value["@value"]
    return value


def _number(value: Any, name: str) -> float | None:
    value = _value(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidRecord(f"{name} must be a number, not {type(value).__name__}")
    try:
        number = float(value.strip().replace(",", ".", 1) if isinstance(value, str) else value)
    except (ValueError, OverflowError):  # OverflowError: an integer too big for a float
        raise InvalidRecord(f"{name} {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidRecord(f"{name} {value!r} is not a finite number")
    return number


def stars(rating: Any) -> int | None:
    """A Rating object (or a bare number) as 1-5 whole stars, scaled from its own range."""
    rating = _value(rating)
    scale = rating if isinstance(rating, Mapping) else {}
    value = _number(scale.get("ratingValue") if isinstance(rating, Mapping) else rating, "ratingValue")
    if value is None:
        return None
    best = _number(scale.get("bestRating"), "bestRating")
    worst = _number(scale.get("worstRating"), "worstRating")
    best, worst = 5.0 if best is None else best, 1.0 if worst is None else worst
    if best <= worst:
        raise InvalidRecord(f"bestRating {best:g} is not above worstRating {worst:g}")
    if not worst <= value <= best:
        raise InvalidRecord(f"rating {value:g} is outside {worst:g} to {best:g}")
    scaled = 1 + (value - worst) * 4 / (best - worst)
    if not math.isfinite(scaled):  # a range near the float limits: inf / inf
        raise InvalidRecord(f"rating {value:g} cannot be scaled from {worst:g} to {best:g}")
    return math.floor(scaled + 0.5)


def _author(value: Any) -> str | None:
    value = _value(value)
    if isinstance(value, Mapping):
        value = _value(value.get("name"))
    return base.optional_text(value, "author")


def _resolve(value: str, page_url: str) -> str | None:
    """urljoin, or None for what no URL parser reads ("http://[" raises ValueError)."""
    try:
        return urljoin(page_url, base.clean_text(value.strip()))
    except ValueError:
        return None


def _link(value: Any, page_url: str) -> str | None:
    """An http(s) URL resolved against the page; anything else (javascript:, objects) is none."""
    value = _value(value)
    if not isinstance(value, str) or not value.strip():
        return None
    resolved = _resolve(value, page_url)
    return resolved if resolved is not None and urlsplit(resolved).scheme in ("http", "https") else None


def _language(value: Any) -> str | None:
    value = _value(value)
    code = value.strip().split("-")[0].lower() if isinstance(value, str) else ""
    return code if len(code) == 2 and code.isalpha() else None


def review_id(node: Mapping[str, Any], page_url: str, author: str | None, created: Any, text: str) -> str:
    """The review's own @id or url (unless it is just the page's), else a hash of what
    identifies it on the page."""
    own = _value(node.get("@id"))
    own = _resolve(own, page_url) if isinstance(own, str) and not own.startswith("_:") else None
    for found in (own, _link(node.get("url"), page_url)):  # "_:b0" names a node in this document only
        if found and found != page_url:
            return found if len(found) <= 255 else "jsonld:" + hashlib.sha256(found.encode()).hexdigest()[:32]
    key = json.dumps([author or "", created.isoformat() if created else "", " ".join(text.split())], ensure_ascii=False)
    return "jsonld:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def node_to_review(node: Mapping[str, Any], page_url: str) -> ReviewData:
    """Normalise one Review object; raises InvalidRecord."""
    body = node.get("reviewBody") if "reviewBody" in node else node.get("description")
    text = base.review_text(_value(body), "reviewBody")
    author = _author(node.get("author"))
    created = base.timestamp(_value(node.get("datePublished")), "datePublished")
    return ReviewData(
        external_id=base.external_id(review_id(node, page_url, author, created, text)),
        text=text,
        rating=stars(node.get("reviewRating")),
        title=base.optional_text(_value(node.get("headline")), "headline") or base.optional_text(_value(node.get("name")), "name"),
        author=author,
        created_at=created,
        updated_at=base.timestamp(_value(node.get("dateModified")), "dateModified"),
        url=_link(node.get("url"), page_url) or page_url,
        language=_language(node.get("inLanguage")),
        raw=base.sanitize(dict(node)),
    )


def _is_review(node: Mapping[str, Any]) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] in REVIEW_TYPES for t in types)


def find_reviews(block: Any) -> list[Mapping[str, Any]]:
    """Review objects anywhere in a block, in document order (reviews inside a review are
    part of it, not rows); raises InvalidRecord past MAX_DEPTH levels."""
    found: list[Mapping[str, Any]] = []
    stack: list[tuple[Any, int, bool]] = [(block, 0, False)]
    while stack:
        node, depth, inside_review = stack.pop()
        if isinstance(node, Mapping):
            children = list(node.values())
            if not inside_review and _is_review(node):
                found.append(node)
                inside_review = True
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= MAX_DEPTH and any(isinstance(c, Mapping | list) for c in children):
            raise InvalidRecord(f"nested deeper than {MAX_DEPTH} levels; not searched")
        stack.extend((child, depth + 1, inside_review) for child in reversed(children))
    return found


def script_blocks(content: bytes, encoding: str | None) -> list[str]:
    """The text of every JSON-LD script element, as an HTML parser sees the page."""
    only_scripts = SoupStrainer("script")
    soup = BeautifulSoup(content, "html.parser", parse_only=only_scripts, from_encoding=encoding)
    blocks = []
    for script in soup.find_all("script"):
        kind = str(script.get("type") or "").split(";")[0].strip().lower()
        if kind == "application/ld+json":
            blocks.append(script.string or "")
    return blocks


def _unwrap(text: str) -> str:
    """Drop the comment or CDATA wrapper some sites still put around script content."""
    text = text.strip()
    for start, end in (("//<![CDATA[", "//]]>"), ("<![CDATA[", "]]>"), ("<!--", "-->")):
        if text.startswith(start) and text.endswith(end):
            text = text[len(start):-len(end)].strip()
    return text


def _unreadable(response: httpx.Response) -> str | None:
    """Why an answer is not a page to read (then nothing is read), or None."""
    if not response.content.strip():
        return "the page is empty; nothing was read"
    mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if mime and mime not in HTML_TYPES:
        return f"not an HTML page (Content-Type {mime}); nothing was read"
    return None


@dataclass
class _Poll:
    """What one poll has seen so far across its pages."""

    max_reviews: int
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (where, canonical JSON)
    hashed: list[str] = field(default_factory=list)
    complete: bool = True
    full: bool = False

    def digest(self) -> str:
        return hashlib.sha256("\n".join([HASH_VERSION, *self.hashed]).encode("utf-8")).hexdigest()


class JsonLdConnector:
    Options: ClassVar = JsonLdOptions
    capabilities = Capabilities(platform="", history=HISTORY)

    def __init__(self, options: JsonLdOptions, *, http: Http):
        self.options = options
        self.http = http
        self.capabilities = Capabilities(platform=options.platform, history=HISTORY)

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        poll = _Poll(self.options.max_reviews)
        pages: list[Page] = []
        for number, url in enumerate([self.options.url, *self.options.pages], start=1):
            pages.append(await self._read_page(number, url, poll))
            if poll.full:
                break
        digest = poll.digest()
        if poll.complete and (cursor or {}).get("sha256") == digest:
            return  # the same reviews as last time, already stored
        pages[-1].cursor = {"sha256": digest} if poll.complete else {}  # {}: re-read all next time
        pages[-1].complete = poll.complete
        for page in pages:
            yield page

    async def _read_page(self, number: int, url: str, poll: _Poll) -> Page:
        response = await self.http.request("GET", url, auth=False, headers={"Accept": "text/html,application/xhtml+xml"},
                                           max_bytes=MAX_PAGE_BYTES)
        page = Page()
        prefix = "" if number == 1 else f"page {number}, "
        problem = _unreadable(response)
        if problem is not None:
            page.errors.append(RowError(f"page {number}", problem, raw=url))
            poll.complete = False
            return page
        poll.hashed.append(url)
        blocks = await asyncio.to_thread(script_blocks, response.content, response.charset_encoding)
        for index, text in enumerate(blocks, start=1):
            self._read_block(f"{prefix}block {index}", _unwrap(text), url, page, poll)
            if poll.full:
                break
        return page

    def _read_block(self, where: str, text: str, url: str, page: Page, poll: _Poll) -> None:
        if not text:
            return
        try:
            nodes = find_reviews(json.loads(text))
        except RecursionError:
            message = "not valid JSON-LD (nested too deeply to parse)"
        except InvalidRecord as exc:
            message = str(exc)
        except ValueError as exc:  # bad JSON, or a number too long to read
            message = f"not valid JSON ({exc})"
        else:
            for index, node in enumerate(nodes, start=1):
                self._add(f"{where}, review {index}", node, url, page, poll)
                if poll.full:
                    return
            return
        page.errors.append(RowError(where, message, raw=base.clean_text(text[:1000])))
        poll.complete = False

    @staticmethod
    def _add(where: str, node: Mapping[str, Any], url: str, page: Page, poll: _Poll) -> None:
        try:
            review = node_to_review(node, url)
        except InvalidRecord as exc:
            raw = base.sanitize(dict(node))
            poll.hashed.append(json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str))
            page.errors.append(RowError(where, str(exc), raw=raw))
            return
        canonical = json.dumps(review.raw, sort_keys=True, ensure_ascii=False, default=str)
        first = poll.seen.get(review.external_id)
        if first is not None:  # the same review shown twice (nested and in @graph, or on two pages)
            if first[1] != canonical:
                page.errors.append(RowError(where, f"id {review.external_id!r} is already used by {first[0]}; skipped", raw=review.raw))
            return
        if len(poll.seen) >= poll.max_reviews:
            page.errors.append(RowError("reviews", f"stopped after {poll.max_reviews} reviews (max_reviews); the rest are not read"))
            poll.complete, poll.full = False, True
            return
        poll.seen[review.external_id] = (where, canonical)
        poll.hashed.append(canonical)
        page.reviews.append(review)
