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
from typing import IO, Any

FORMATS = ("table", "json", "csv")
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


def write_table(
    rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str, int | None]], out: IO[str] | None = None
) -> int:
    """columns: (key, heading, max width or None). Returns the number of rows shown."""
    # imported here: a cron poll, which prints no table, need not load rich
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for _key, heading, width in columns:
        table.add_column(heading, overflow="fold", max_width=width)
    count = 0
    for row in rows:
        table.add_row(*(Text(visible(row.get(key), width)) for key, _h, width in columns))
        count += 1
    Console(file=out or sys.stdout, soft_wrap=False).print(table)
    return count


def emit(
    rows: Iterable[dict[str, Any]], fmt: str, *, table_columns: Sequence[tuple[str, str, int | None]],
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
