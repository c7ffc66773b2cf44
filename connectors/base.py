"""The one interface every connector implements, and the normalised review it yields.

A connector is built from its validated options; `fetch(cursor)` is an async iterator
of `Page`s. Each page carries the reviews it read, the rows it could not read, and
the cursor to save once that page is stored (None: keep the saved one). A connector
never touches the database; the poller stores a page and its cursor in one
transaction, so a crash mid-poll neither loses nor duplicates anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict

MAX_TEXT_CHARS = 1_000_000
"""A review longer than this is refused with a row error rather than stored."""

MAX_FIELD_CHARS = 2_000
"""Title, author, location and id are short by nature; longer ones are cut, not refused."""


def size_text(limit: int) -> str:
    """A size limit as people write it: 5 MB, 64 KB, 300 bytes."""
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit:,} bytes"


DURATION_PATTERN = re.compile(r"^(?:\d+[smhd])+$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """ "90s", "15m", "1h30m", "7d" as a timedelta; ValueError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if not DURATION_PATTERN.match(compact):
        raise ValueError(f"{text!r} is not a duration like '90s', '15m', '1h' or '1d'")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhd])", compact)))


Duration = Annotated[timedelta, BeforeValidator(lambda v: parse_duration(v) if isinstance(v, str) else v)]
"""An options field written as "15m", "1h", "7d" in the config."""


class Options(BaseModel):
    """Base of every connector's options: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class ReplyLimit:
    """How long a public reply may be on a platform, counted the way the platform counts."""

    limit: int
    unit: str = "characters"  # or "bytes" (UTF-8)

    def measure(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.unit == "bytes" else len(text)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform lets us do, in one place."""

    platform: str  # shown to people and passed to reply templates, e.g. "the App Store"
    can_reply: bool = False  # the connector has post_reply()
    reply_limit: ReplyLimit | None = None
    reply_upsert: bool = True  # posting again replaces, so a retry after a crash is safe
    retention: timedelta | None = None  # the platform lists reviews only this long after a change
    edits_per_minute: int | None = None  # replies posted or deleted per minute and profile (location) the platform allows
    history: str | None = None
    """How far back the platform lets a backfill reach, for `reviewmon backfill` to say; on
    a connector without backfill(), why there is none."""


@dataclass(frozen=True, slots=True)
class ReviewData:
    """One review as a connector read it, normalised; `raw` is the platform's own record."""

    external_id: str
    text: str
    rating: int | None = None
    title: str | None = None
    author: str | None = None
    location: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None
    owner_reply: str | None = None
    owner_reply_state: str | None = None  # the platform's moderation state of that reply (Google: PENDING, REJECTED, ...)
    raw: Any = None
    excerpt: bool = False  # the platform gives only the start of the text
    language: str | None = None  # as the platform states it (ISO 639-1)
    translation: str | None = None  # the platform's translation (English, or the language asked for), when it sent one;
    # `text` is "" when the platform sent only its translation (Tripadvisor's machine-translated reviews)


@dataclass(frozen=True, slots=True)
class RowError:
    """A record the connector could not read: where it was, why, and what it held."""

    where: str  # "line 12", "page 2, entry 7"
    message: str
    raw: Any = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(slots=True)
class Page:
    reviews: list[ReviewData] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    complete: bool = False
    """True on the last page of a full listing: reviews of this source that the poll did
    not see are then marked removed (never deleted)."""


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """What a connector needs to reply to one stored review."""

    external_id: str
    url: str | None
    raw: Any
    location: str | None = None


@dataclass(frozen=True, slots=True)
class PostedReply:
    """What the platform said after taking a reply."""

    reply_id: str | None = None
    posted_at: datetime | None = None
    state: str | None = None  # e.g. PUBLISHED, PENDING_PUBLISH, a moderation state
    text: str | None = None


class Connector(Protocol):
    """Reads one source. Built with `Connector(options, http=Http(...))`; may raise
    AuthError at once when a credential it needs is not set.

    Connectors that can reply also have
        async def post_reply(self, target: ReplyTarget, text: str) -> PostedReply
    and, when posting twice is not safe (capabilities.reply_upsert is False),
        async def current_reply(self, target: ReplyTarget) -> PostedReply | None

    Connectors whose platform lists a source's whole history also have
        def backfill(self, resume: Mapping[str, Any] | None) -> AsyncIterator[Page]
    which reads that history from the start (or from `resume`) to the end. Each page's
    cursor is where a backfill resumes once that page is stored; the last page's is
    paging.BACKFILL_DONE. A backfill never sets `complete` (it marks nothing removed).
    """

    Options: ClassVar[type[Options]]
    capabilities: Capabilities

    def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]: ...


class InvalidRecord(ValueError):
    """Raised by the normalising helpers below; the connector turns it into a RowError."""


# --- normalising helpers shared by connectors -------------------------------------------

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Make untrusted text storable everywhere: no NUL bytes (PostgreSQL refuses them) and
    no lone surrogates (not encodable as UTF-8). Everything else, HTML and template syntax
    included, is kept exactly: it is data, escaped where it is shown."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if _LONE_SURROGATE.search(value):
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return unicodedata.normalize("NFC", value)


MAX_RAW_DEPTH = 64
"""Raw payloads are cut below this many levels of nesting (real records are a few deep):
a hostile record nested hundreds deep would otherwise exhaust the stack here or later,
when it is stored or shown."""
TOO_DEEP = "(nested too deeply; not kept)"


def sanitize(value: Any, _depth: int = 0) -> Any:
    """clean_text applied through a JSON-like structure (for the raw payload); containers
    deeper than MAX_RAW_DEPTH become TOO_DEEP."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping | list | tuple) and _depth >= MAX_RAW_DEPTH:
        return TOO_DEEP
    if isinstance(value, Mapping):
        return {clean_text(str(k)): sanitize(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitize(v, _depth + 1) for v in value]
    return value


def optional_text(value: Any, name: str, *, limit: int = MAX_FIELD_CHARS) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidRecord(f"{name} must be text, not {type(value).__name__}")
    text = clean_text(str(value)).strip()
    return text[:limit] or None


def review_text(value: Any, name: str = "text") -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRecord(f"{name} must be text, not {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidRecord(f"{name} is {len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    return clean_text(value).strip()


def external_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRecord("id is missing" if value is None else f"id must be text, not {type(value).__name__}")
    text = clean_text(str(value)).strip()
    if not text:
        raise InvalidRecord("id is empty")
    if len(text) > 255:
        raise InvalidRecord(f"id is {len(text)} characters; the limit is 255")
    return text


def star_rating(value: Any) -> int | None:
    """A 1-5 star rating from an int, a whole float or a numeric string; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRecord(f"rating must be a whole number from 1 to 5, not {value!r}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer too big for a float
        raise InvalidRecord(f"rating must be a whole number from 1 to 5, not {value!r:.60}") from None
    if not number.is_integer() or not 1 <= number <= 5:
        raise InvalidRecord(f"rating {value!r} is outside 1 to 5")
    return int(number)


def timestamp(value: Any, name: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 time as an aware UTC datetime; a time without an offset is UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{name} must be an ISO 8601 time, not {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRecord(f"{name} {value[:60]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # "0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00": no UTC time
        raise InvalidRecord(f"{name} {value[:60]!r} is outside the years 1 to 9999 in UTC") from None
