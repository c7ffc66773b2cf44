"""The list pages' filters and paging (inbox, reviews): a field value that does not
parse is ignored with a note on the page, never a 500."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from service.models import MAX_ID

PAGE_SIZES = (25, 50, 100, 200)


def as_int(value: str | None) -> int | None:
    """A whole number a database column can hold, else None (the filter is ignored)."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is None or abs(number) <= MAX_ID else None


def as_day(value: str | None, errors: list[str], name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: {value!r} is not a date (YYYY-MM-DD); ignored")
        return None


def dates(since: str | None, until: str | None, errors: list[str]) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """The From and To fields: the range to query, from the start of "from" to the end of
    "to" (UTC; "to" includes its day), and the dates as the page shows them back."""
    first, last = as_day(since, errors, "from"), as_day(until, errors, "to")

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=timezone.utc)

    shown = {name: day.isoformat() for name, day in (("since", first), ("until", last)) if day}
    return (midnight(first) if first else None), (midnight(last) + timedelta(days=1) if last else None), shown


def page_links(path: str, shown: dict[str, Any], limit: int, offset: int, more: bool) -> dict[str, str | None]:
    """The newer and older pages of a list, with the filters it was asked for."""
    def page(at: int) -> str:
        return f"{path}?" + urlencode({**shown, "limit": limit, "offset": at})

    return {"prev_url": page(max(0, offset - limit)) if offset else None, "next_url": page(offset + limit) if more else None}
