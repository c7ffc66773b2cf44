"""Builds Trustpilot API answers in the documented shapes: the reviews listing (`reviews`
plus `links` with a `next-page` link), one review, the token endpoint of the
client-credentials grant (whose `expires_in` is a string) and error bodies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

BASE = "https://trustpilot.example"
BUSINESS_UNIT = "46d6a890ffa235a75b00021d"
BUSINESS_USER = "5a0b1c2d3e4f5a6b7c8d9e0f"
LISTING_PATH = f"/v1/business-units/{BUSINESS_UNIT}/reviews"
TOKEN_PATH = "/v1/oauth/oauth-business-users-for-applications/accesstoken"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def review_id(n: int) -> str:
    return f"5e3de1b45fb06f{n:010x}"


def when(minutes_ago: int) -> str:
    return (T0 - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def review(n: int, *, stars: Any = 4, text: str | None = None, title: str | None = None, minutes_ago: int | None = None,
           updated_minutes_ago: int | None = None, reply: str | None = None, language: str = "en") -> dict[str, Any]:
    """Review n, created n minutes before T0 unless told otherwise (so higher n is older)."""
    record: dict[str, Any] = {
        "id": review_id(n),
        "stars": stars,
        "title": f"Title {n}" if title is None else title,
        "text": f"Review number {n}." if text is None else text,
        "language": language,
        "createdAt": when(n if minutes_ago is None else minutes_ago),
        "updatedAt": None if updated_minutes_ago is None else when(updated_minutes_ago),
        "experiencedAt": when(60 * 24 * 7),
        "consumer": {"id": f"c{n}", "displayName": f"Customer {n}", "numberOfReviews": 3},
        "status": "active",
        "isVerified": n % 2 == 0,
        "businessUnit": {"id": BUSINESS_UNIT},
    }
    if reply is not None:
        record["companyReply"] = {"text": reply, "createdAt": when(0)}
    return record


def listing(reviews: list[Any], *, page: int = 1, next_page: int | None = None, per_page: int = 100) -> dict[str, Any]:
    """A listing page; `next_page` puts in the next-page link (rel names vary: self, prev-page)."""
    def link(number: int, rel: str) -> dict[str, str]:
        return {"href": f"https://api.trustpilot.com{LISTING_PATH}?page={number}&perPage={per_page}", "method": "GET", "rel": rel}

    links = [link(page, "self")]
    if page > 1:
        links.append(link(page - 1, "prev-page"))
    if next_page is not None:
        links.append(link(next_page, "next-page"))
    return {"links": links, "reviews": reviews}


def token(access_token: str = "tp-access-1", expires_in: str = "359999") -> dict[str, Any]:
    """The client-credentials grant's answer: no refresh token (a new token is asked for instead)."""
    return {"access_token": access_token, "expires_in": expires_in, "token_type": "BearerToken"}


def error(message: str, code: int = 400) -> dict[str, Any]:
    return {"message": message, "errorCode": code}
