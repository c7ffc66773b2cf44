"""Builds App Store customer-reviews feed pages in the documented shape (labels everywhere,
ratings as strings, `entry` a list, a single object or missing)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

BASE = "https://itunes.example"
APP_ID = "123456"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=-7)))


def entry(n: int, *, rating: int | str = 4, text: str | None = None, title: str | None = None, minutes_ago: int | None = None) -> dict[str, Any]:
    updated = T0 - timedelta(minutes=n if minutes_ago is None else minutes_ago)
    return {
        "id": {"label": str(10_000_000 + n)},
        "author": {"name": {"label": f"user_{n}"}, "uri": {"label": f"https://itunes.example/us/reviews/id{n}"}, "label": ""},
        "updated": {"label": updated.isoformat()},
        "im:rating": {"label": str(rating)},
        "im:version": {"label": "3.7.0"},
        "title": {"label": title or f"Title {n}"},
        "content": {"label": text or f"Review number {n}.", "attributes": {"type": "text"}},
        "link": {"attributes": {"rel": "related", "href": f"https://itunes.example/us/review?id={APP_ID}"}},
        "im:voteSum": {"label": "0"},
        "im:voteCount": {"label": "0"},
    }


def app_metadata_entry() -> dict[str, Any]:
    return {"im:name": {"label": "Bistro App"}, "id": {"label": "https://apps.example/id123456"}, "updated": {"label": T0.isoformat()}}


def feed(entries: list[dict[str, Any]] | dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/itunes/"}},
        "updated": {"label": T0.isoformat()},
    }
    if entries is not None:
        body["entry"] = entries
    return {"feed": body}


def page_path(number: int, country: str = "us") -> str:
    return f"/{country}/rss/customerreviews/page={number}/id={APP_ID}/sortby=mostrecent/json"
