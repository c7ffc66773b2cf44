"""Reading the filter fields of the list pages (inbox, reviews): a value that does not
parse is ignored with a note on the page, never a 500."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

PAGE_SIZES = (25, 50, 100, 200)


def as_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def as_day(value: str | None, errors: list[str], name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: {value!r} is not a date (YYYY-MM-DD); ignored")
        return None


def day_range(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """From the start of `first` to the end of `last` (UTC): "to" includes that day."""
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=timezone.utc)

    return (midnight(first) if first else None), (midnight(last) + timedelta(days=1) if last else None)
