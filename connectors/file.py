"""Reviews from a JSON Lines or CSV file: for imports, offline use and the demo.

Fields (JSON keys or CSV header): `id` (required), `text` (required, may be empty),
`rating` (1-5), `title`, `author`, `created_at`, `updated_at` (ISO 8601), `location`,
`url`, `reply` (an owner reply the platform already shows). Other fields are kept in the
raw payload. A row that cannot be read becomes a RowError naming its line; the good
rows around it still land. A CSV row whose quoted field runs away (a stray quote) costs
that row only, and a line over MAX_LINE_BYTES is one bad row (connectors/lines.py).

The whole file is read on every poll, so an edit anywhere in it is seen. Its SHA-256
is the cursor: an unchanged file is skipped without parsing.

Backfill: the whole file from its first line, a page of `page_size` reviews at a time;
the resume cursor is the last line stored and the file's SHA-256, so an interrupted
backfill goes on after that line, or starts again from the top if the file has changed.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from connectors import base, lines
from connectors.base import Capabilities, InvalidRecord, Page, ReviewData, RowError
from connectors.errors import BadResponse, ConnectorError
from connectors.paging import BACKFILL_DONE, backfill_done, resume_page

_CSV_FIELD_LIMIT = base.MAX_TEXT_CHARS * 4 + 1
MAX_LINE_BYTES = 8 * 1024 * 1024
"""A JSON Lines line (bytes), or a CSV row with all its lines (characters), longer than
this is one bad row: the rest of it is skipped unread, and reading goes on after it."""
HISTORY = "the whole file"
log = logging.getLogger("reviewmon.connectors.file")


class FileOptions(base.Options):
    path: Path = Field(description="JSON Lines (.jsonl, .ndjson) or CSV (.csv) file; relative to the config file")
    format: Literal["auto", "jsonl", "csv"] = "auto"
    page_size: int = Field(default=500, ge=1, le=10_000)
    platform: str = Field(default="", description="where these reviews were published, as replies may name it")


def record_to_review(record: Mapping[str, Any]) -> ReviewData:
    """Normalise one record with the file format's field names; raises InvalidRecord."""
    if "text" not in record:
        raise InvalidRecord("text is missing (it may be empty, but the field must be there)")
    return ReviewData(
        external_id=base.external_id(record.get("id")),
        text=base.review_text(record.get("text")),
        rating=base.star_rating(record.get("rating")),
        title=base.optional_text(record.get("title"), "title"),
        author=base.optional_text(record.get("author"), "author"),
        location=base.optional_text(record.get("location"), "location"),
        created_at=base.timestamp(record.get("created_at"), "created_at"),
        updated_at=base.timestamp(record.get("updated_at"), "updated_at"),
        url=base.optional_text(record.get("url"), "url"),
        owner_reply=base.optional_text(record.get("reply"), "reply", limit=base.MAX_TEXT_CHARS),
        raw=base.sanitize(dict(record)),
    )


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader(io.RawIOBase):
    """Passes bytes through while hashing them, so the cursor matches what was parsed."""

    def __init__(self, raw: io.BufferedReader):
        self._raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
        return n or 0


def _jsonl_records(stream: io.BufferedIOBase) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    number = 0
    while True:
        line, too_long = lines.bounded_line(stream.readline, MAX_LINE_BYTES, (b"\n",))
        if not line and not too_long:
            return
        number += 1
        where = f"line {number}"
        if too_long:
            yield number, RowError(where, f"the line is longer than {base.size_text(MAX_LINE_BYTES)} (the limit for one line); "
                                          "the rest of it was skipped unread")
            continue
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            yield number, RowError(where, "not valid UTF-8", raw=base.clean_text(line[:1000].decode("utf-8", "replace")))
            continue
        except (ValueError, RecursionError) as exc:  # ValueError: bad JSON, or a number of 4,300+ digits
            message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            yield number, RowError(where, f"not valid JSON ({message})", raw=base.clean_text(line[:1000].decode("utf-8", "replace")))
            continue
        if not isinstance(record, dict):
            yield number, RowError(where, f"expected a JSON object, got {type(record).__name__}", raw=base.sanitize(record))
            continue
        yield number, record


def _csv_records(stream: io.BufferedIOBase) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    rows = lines.csv_rows(text, MAX_LINE_BYTES)
    try:
        _, header = next(rows)
    except lines.BadRow as exc:
        raise BadResponse(f"the CSV header cannot be read ({exc})") from None
    missing = [name for name in ("id", "text") if name not in header]
    if missing:
        raise BadResponse(f"the CSV header has no {' or '.join(repr(m) for m in missing)} column (header: {', '.join(header)[:200]})")
    for number, cells in rows:
        where = f"line {number}"
        if isinstance(cells, str):
            yield number, RowError(where, f"not valid CSV ({cells}); only this row is skipped")
            continue
        row: dict[str, Any] = dict(zip(header, cells, strict=False))
        if len(cells) > len(header):  # more cells than header columns
            row["_extra_cells"] = cells[len(header):]
        for name in header[len(cells):]:
            row.setdefault(name, None)
        if any(isinstance(v, str) and base._LONE_SURROGATE.search(v) for v in row.values()):
            yield number, RowError(where, "not valid UTF-8", raw=base.sanitize(row))
            continue
        # CSV has no null: an empty cell means "absent".
        yield number, {k: (v if v != "" else None) if k != "text" else (v or "") for k, v in row.items()}


class FileConnector:
    Options: ClassVar = FileOptions
    capabilities = Capabilities(platform="", history=HISTORY)

    def __init__(self, options: FileOptions, **_: Any):
        self.options = options
        self.capabilities = Capabilities(platform=options.platform, history=HISTORY)

    def _format(self) -> str:
        if self.options.format != "auto":
            return self.options.format
        suffix = self.options.path.suffix.lower()
        if suffix in (".jsonl", ".ndjson", ".json"):
            return "jsonl"
        if suffix in (".csv", ".tsv"):
            return "csv"
        raise ConnectorError(f"cannot tell the format of {self.options.path} from its name; set format = \"jsonl\" or \"csv\"")

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        path = self.options.path
        try:
            digest = await asyncio.to_thread(file_digest, path)
        except OSError as exc:
            raise ConnectorError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if cursor and cursor.get("sha256") == digest:
            return
        records = _csv_records if self._format() == "csv" else _jsonl_records
        seen: dict[str, int] = {}
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise ConnectorError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with handle:
            hashing = _HashingReader(handle)
            stream = io.BufferedReader(hashing, buffer_size=1 << 16)
            page = Page()
            for number, record in records(stream):
                if isinstance(record, RowError):
                    page.errors.append(record)
                else:
                    self._add(page, number, record, seen)
                if len(page.reviews) >= self.options.page_size:
                    yield page
                    page = Page()
            page.cursor = {"sha256": hashing.digest.hexdigest()}
            yield page

    async def backfill(self, resume: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        """The whole file, from the top or from the line after `resume`'s ({"line", "sha256"})."""
        if backfill_done(resume):
            return
        path = self.options.path
        try:
            digest = await asyncio.to_thread(file_digest, path)
            handle = path.open("rb")
        except OSError as exc:
            raise ConnectorError(f"cannot read {path}: {exc.strerror or exc}") from exc
        after = resume_page(resume, "line")
        if after and resume.get("sha256") != digest:
            log.warning("%s has changed since the backfill stopped after line %d: reading it again from the top", path, after)
            after = 0
        records = _csv_records if self._format() == "csv" else _jsonl_records
        seen: dict[str, int] = {}
        with handle:
            page = Page()
            for number, record in records(handle):
                if number <= after:  # stored before the interruption; only its id is remembered
                    if not isinstance(record, RowError):
                        self._add(Page(), number, record, seen)
                    continue
                if isinstance(record, RowError):
                    page.errors.append(record)
                else:
                    self._add(page, number, record, seen)
                if len(page.reviews) >= self.options.page_size:
                    page.cursor = {"line": number, "sha256": digest}
                    yield page
                    page = Page()
            page.cursor = dict(BACKFILL_DONE)
            yield page

    @staticmethod
    def _add(page: Page, number: int, record: Mapping[str, Any], seen: dict[str, int]) -> None:
        where = f"line {number}"
        try:
            review = record_to_review(record)
        except InvalidRecord as exc:
            page.errors.append(RowError(where, str(exc), raw=base.sanitize(dict(record))))
            return
        first = seen.setdefault(review.external_id, number)
        if first != number:
            page.errors.append(RowError(where, f"id {review.external_id!r} already appeared on line {first}; this row is skipped", raw=review.raw))
            return
        page.reviews.append(review)


csv.field_size_limit(_CSV_FIELD_LIMIT)
