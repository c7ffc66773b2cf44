"""Builds App Store Connect API answers in the documented JSON:API shape: customerReviews
in `data[]`, their customerReviewResponses in `included[]`, `links.next` as an opaque
cursor URL, and `{"errors": [...]}` bodies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

BASE = "https://asc.example"
APP_ID = "1234567890"
KEY_ID = "2X9R4HXF34"
ISSUER_ID = "57246542-96fe-1a63-e053-0824d011072a"
KEY_ENV = "ASC_PRIVATE_KEY"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=-8)))
REVIEWS_PATH = f"/v1/apps/{APP_ID}/customerReviews"


def private_key_pem() -> str:
    """A throw-away P-256 key in the PKCS#8 PEM form of a downloaded .p8 file."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def review_id(n: int) -> str:
    return f"00000028-b08c-0014-729e-{n:012x}"


def created(n: int) -> str:
    """Review n was written n minutes before T0 (so a higher n is older)."""
    return (T0 - timedelta(minutes=n)).isoformat()


def response(n: int, *, body: str | None = None, state: str = "PUBLISHED") -> dict[str, Any]:
    return {
        "type": "customerReviewResponses", "id": f"resp-{n}",
        "attributes": {"responseBody": body or f"Thanks for review {n}.", "lastModifiedDate": (T0 + timedelta(hours=1)).isoformat(), "state": state},
        "links": {"self": f"{BASE}/v1/customerReviewResponses/resp-{n}"},
    }


def review(n: int, *, rating: Any = 4, title: str | None = None, body: str | None = None, territory: str = "USA",
           replied: bool = False, minutes_ago: int | None = None) -> dict[str, Any]:
    relationship: dict[str, Any] = {"links": {"related": f"{BASE}/v1/customerReviews/{review_id(n)}/response"}}
    relationship["data"] = {"type": "customerReviewResponses", "id": f"resp-{n}"} if replied else None
    return {
        "type": "customerReviews", "id": review_id(n),
        "attributes": {
            "rating": rating, "title": title if title is not None else f"Title {n}",
            "body": body if body is not None else f"Review number {n}.",
            "reviewerNickname": f"user_{n}", "createdDate": created(n if minutes_ago is None else minutes_ago), "territory": territory,
        },
        "relationships": {"response": relationship},
        "links": {"self": f"{BASE}/v1/customerReviews/{review_id(n)}"},
    }


def next_link(cursor: str) -> str:
    return f"{BASE}{REVIEWS_PATH}?cursor={cursor}&limit=200&sort=-createdDate&include=response"


def page(reviews: list[Any], *, included: list[dict[str, Any]] = (), next_cursor: str | None = None, total: int | None = None) -> dict[str, Any]:
    links = {"self": f"{BASE}{REVIEWS_PATH}"}
    if next_cursor is not None:
        links["next"] = next_link(next_cursor)
    return {"data": reviews, "included": list(included), "links": links,
            "meta": {"paging": {"total": total if total is not None else len(reviews), "limit": 200}}}


def error(status: int, code: str, title: str, detail: str) -> dict[str, Any]:
    return {"errors": [{"id": "b1a2c3d4-0000-0000-0000-000000000000", "status": str(status), "code": code, "title": title, "detail": detail}]}


def posted(n: int, text: str, *, state: str = "PENDING_PUBLISH") -> dict[str, Any]:
    """The 201 body of POST /v1/customerReviewResponses."""
    resource = response(n, body=text, state=state)
    return {"data": resource, "links": {"self": f"{BASE}/v1/customerReviewResponses/resp-{n}"}}


def rate_header(remaining: int, limit: int = 3600) -> dict[str, str]:
    return {"X-Rate-Limit": f"user-hour-lim:{limit};user-hour-rem:{remaining};"}
