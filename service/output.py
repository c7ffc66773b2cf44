"""Print rows as a table (people), JSON or CSV (scripts).

Everything in a row may have come from a stranger on the internet. Tables show it with
control characters, terminal escapes and bidirectional overrides made visible, so a
review cannot recolour, rewrite or reorder the owner's terminal. JSON and CSV carry the
exact text (JSON escapes control characters by itself).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any, NamedTuple

def web_link(url: str | None) -> str | None:
    """A stranger's link (a platform's link to a review) worth offering: plainly an http(s)
    address, never `javascript:`, a local file or something with spaces in it. The one
    check behind the web pages, the alert messages and the report links."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url) else None


FORMATS = ("table", "json", "csv")
_NO_CAP = 10_000  # a table cell is one line: its whitespace is collapsed even without a width
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(value: Any, width: int | None = None) -> str:
    """Text safe for a terminal: unsafe characters shown as \\xNN / \\uNNNN escapes."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    text = _UNSAFE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(value))
    if width is not None:
        text = " ".join(text.split())
        if len(text) > width:
            text = text[: width - 1] + "…"
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(rows: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """A JSON array written row by row (a million rows never sit in memory)."""
    out.write("[")
    written = False
    for row in rows:
        out.write(",\n " if written else "\n ")
        out.write(json.dumps(row, default=_json_default, ensure_ascii=False))
        written = True
    out.write("\n]\n" if written else "]\n")


def csv_value(value: Any) -> Any:
    """A cell as CSV writes it: times in ISO 8601, booleans as true/false, lists joined."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if any(isinstance(item, dict) for item in value):  # e.g. a run's problems: keep their fields apart
            return json.dumps(value, ensure_ascii=False, default=_json_default)
        return "; ".join(map(str, value))
    return value


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (=, +, -, @) gets a leading
    apostrophe: names and texts come from the platforms, and marketers open CSV in Excel."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_value(row.get(k)) for k in columns})


class Col(NamedTuple):
    """A table column. `width`: the most characters it shows. `shrink`: on a terminal too
    narrow for the table, the column may be cut short (with an ellipsis) down to this many
    characters; None: always whole (times, numbers, statuses). `drop`: on a terminal too
    narrow even then, columns are left out, the lowest `drop` first; None: never."""

    key: str
    heading: str
    width: int | None = None
    shrink: int | None = None
    drop: int | None = None


_GAP = 3  # " │ " between two columns


def _fit(columns: list[Col], cells: list[list[str]], room: int) -> list[tuple[int, int]]:
    """Which columns to show in `room` characters, and how wide: (column index, width).

    Every column gets what its heading and cells need (up to its `width`). Where the
    terminal is narrower, the columns that may shrink give up width, and then columns are
    left out: those with nothing to show first, then in their `drop` order. Width left
    over is shared out evenly between the shortened columns, none past what it needs.
    (Rich cuts and aligns the cells; it has no order in which to leave columns out.)"""
    from rich.cells import cell_len

    natural = [max([cell_len(column.heading)] + [cell_len(row[i]) for row in cells]) for i, column in enumerate(columns)]
    least = [min(column.shrink, natural[i]) if column.shrink else natural[i] for i, column in enumerate(columns)]
    empty = {i for i in range(len(columns)) if not any(row[i] for row in cells)}
    shown = list(range(len(columns)))

    def need() -> int:
        return sum(least[i] for i in shown) + _GAP * (len(shown) - 1)

    while need() > room and (droppable := [i for i in shown if columns[i].drop is not None]):
        shown.remove(min(droppable, key=lambda i: (i not in empty, columns[i].drop)))
    widths = {i: least[i] for i in shown}
    spare = room - need()
    while spare > 0 and (short := [i for i in shown if widths[i] < natural[i]]):
        share = max(1, spare // len(short))
        for i in short:
            grow = min(share, natural[i] - widths[i], spare)
            widths[i], spare = widths[i] + grow, spare - grow
    return [(i, widths[i]) for i in shown]


def write_table(
    rows: Iterable[dict[str, Any]], columns: Sequence[Col | tuple[str, str, int | None]], out: IO[str] | None = None
) -> int:
    """The rows as a table that fits the terminal (Col: how each column may give way), one
    line per row. Returns the number of rows shown."""
    # imported here: a cron poll, which prints no table, need not load rich
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    specs = [Col(*column) for column in columns]
    cells = [[visible(row.get(column.key), column.width or _NO_CAP) for column in specs] for row in rows]
    console = Console(file=out or sys.stdout, soft_wrap=False)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    fitted = _fit(specs, cells, console.width)
    for index, width in fitted:
        heading = Text(specs[index].heading, no_wrap=True, overflow="ellipsis")
        table.add_column(heading, width=width, no_wrap=True, overflow="ellipsis")
    for row in cells:
        table.add_row(*(Text(row[index], no_wrap=True, overflow="ellipsis") for index, _ in fitted))
    console.print(table)
    return len(cells)


def emit(
    rows: Iterable[dict[str, Any]], fmt: str, *, table_columns: Sequence[Col | tuple[str, str, int | None]],
    fields: Sequence[str], out: IO[str] | None = None,
) -> int | None:
    out = out or sys.stdout
    if fmt == "json":
        write_json(rows, out)
    elif fmt == "csv":
        write_csv(rows, fields, out)
    else:
        return write_table(rows, table_columns, out)
    return None
