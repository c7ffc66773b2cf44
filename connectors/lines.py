"""Lines of an import file, each at most a set length, and CSV rows read from them so that
a malformed row costs that row and never the rows after it.

The csv module parses; what it is fed is watched. A quoted field may run over several
lines (reviews have paragraphs), but a row whose quoted field
- runs on into a line that looks like a row of its own (as many cells as the header, an
  id of one word, its quotes balanced: what a stray quote swallows),
- is still open at the end of the file, or
- grows past the length limit
is one bad row, reported at its first line, and reading goes on at the line after that
one: the lines it swallowed are read again as the rows they are. A line longer than the
limit is one bad row too, its rest skipped unread, so memory stays within the limit.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

SKIP = 1 << 16  # the rest of an over-long line is read past in pieces of this size
L = TypeVar("L", str, bytes)


def bounded_line(readline: Callable[[int], L], limit: int, ends: tuple[L, ...]) -> tuple[L, bool]:
    """The next line if it is at most `limit` long (bytes or characters, with its end);
    else (an empty line, True), the rest of that line skipped unread. ("", False) at the end."""
    line = readline(limit + 1)
    if len(line) <= limit or line.endswith(ends):
        return line, False
    rest = line
    while rest and not rest.endswith(ends):
        rest = readline(SKIP)
    return line[:0], True


class BadRow(Exception):
    """One bad row; the lines after its first are read again."""


class CsvFeed:
    """Physical lines for csv.reader, watching the lines a row's quoted field runs into."""

    def __init__(self, text: Any, limit: int):
        self._text = text
        self.limit = limit
        self._ahead: list[tuple[int, str | None]] = []  # lines to read again, last first
        self._number = 0
        self._taken: list[tuple[int, str | None]] = []  # the current row's lines after its first
        self._size = 0
        self._starting = True
        self.first = 0  # the line the current row starts on
        self.width: int | None = None  # the header's cells, once read
        self.id_column = 0

    def _read(self) -> tuple[int, str | None] | None:
        if self._ahead:
            return self._ahead.pop()
        line, too_long = bounded_line(self._text.readline, self.limit, ("\n", "\r"))
        if not line and not too_long:
            return None
        self._number += 1
        return self._number, None if too_long else line

    def next_row(self) -> None:
        """The next line asked for starts a row."""
        self._starting, self._taken = True, []

    def __iter__(self) -> CsvFeed:
        return self

    def __next__(self) -> str:
        got = self._read()
        if self._starting:
            if got is None:
                raise StopIteration
            self.first, line = got
            self._starting = False
            if line is None:
                self.fail(f"the line is longer than {self.limit:,} characters; its rest was skipped")
            self._size = len(line)
            return line
        if got is None:
            self.fail("a quoted field is still open at the end of the file")
        self._taken.append(got)
        number, line = got
        if line is None:
            self.fail(f"a quoted field runs on into line {number}, longer than {self.limit:,} characters")
        self._size += len(line)
        if self._size > self.limit:
            self.fail(f"a quoted field runs on past {self.limit:,} characters")
        if self._looks_like_row(line):
            self.fail(f"a quoted field runs on into line {number}, which looks like a row of its own")
        return line

    def rewind(self) -> None:
        """Give back the lines the current row took after its first: they are read again."""
        self._ahead.extend(reversed(self._taken))
        self.next_row()

    def fail(self, why: str) -> None:
        self.rewind()
        raise BadRow(why)

    def _looks_like_row(self, line: str) -> bool:
        if self.width is None or line.count('"') % 2:
            return False
        cells = next(csv.reader([line]), [])
        if len(cells) != self.width:
            return False
        key = cells[self.id_column].strip()
        return bool(key) and not any(c.isspace() or c == '"' for c in key)


def csv_rows(text: Any, limit: int) -> Iterator[tuple[int, list[str] | str]]:
    """(first line, cells) for every row after the header, or (line, why) for a bad row;
    the header first, as (1, cells). A header that cannot be read raises BadRow."""
    feed = CsvFeed(text, limit)
    reader = csv.reader(feed)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise BadRow(str(exc)) from None
    yield 1, header
    feed.width, feed.id_column = len(header), header.index("id") if "id" in header else 0
    while True:
        feed.next_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except BadRow as exc:
            yield feed.first, str(exc)
            continue
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
            feed.rewind()
            yield feed.first, str(exc)
            continue
        if cells:  # a blank line is no row
            yield feed.first, cells
