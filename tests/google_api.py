"""Builds Google Business Profile API v4 answers in the documented shapes: Review objects
(starRating as words, comment absent for rating-only reviews, reviewer without
displayName when anonymous, RFC 3339 times), list pages (nextPageToken absent on the
last page, reviews absent when there are none), ReviewReply and Google error bodies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

BASE = "https://gbp.example"
TOKEN_URL = "https://oauth.example/token"
ACCOUNT = "1098765432"
LOCATION = "2233445566"
OTHER_LOCATION = "7788990011"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
WORDS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}
ENV = {"GBP_CLIENT_ID": "cid-123.apps.example", "GBP_CLIENT_SECRET": "csecret-abcdef", "GBP_REFRESH_TOKEN": "1//refresh-xyz"}


def rfc3339(when: datetime) -> str:
    """Google's Z-normalised form, with nanoseconds as the API sometimes sends."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def review(
    n: int, *, location: str = LOCATION, stars: int | str = 4, comment: str | None = "", hours_ago: float | None = None,
    reply: str | None = None, anonymous: bool = False, created_hours_ago: float | None = None,
    reply_state: str | None = None, state_field: str = "reviewReplyState", reply_url: str | None = None,
) -> dict[str, Any]:
    """Review number n, changed n hours before T0 unless told; comment "" means a default text.
    `reply_state` is the reply's moderation state (PENDING, REJECTED, APPROVED: the
    ReviewReplyState of Google's 2026-04 changelog), under `state_field` of the reply;
    `reply_url` is the review's `reviewReplyUrl` (2026-07 changelog)."""
    updated = T0 - timedelta(hours=n if hours_ago is None else hours_ago)
    created = T0 - timedelta(hours=created_hours_ago) if created_hours_ago is not None else updated
    review_id = f"AbFvOq{location[-4:]}r{n:04d}"
    record: dict[str, Any] = {
        "name": f"accounts/{ACCOUNT}/locations/{location}/reviews/{review_id}",
        "reviewId": review_id,
        "reviewer": {"isAnonymous": True} if anonymous else {
            "displayName": f"Guest {n}", "profilePhotoUrl": f"https://lh3.example/p{n}.jpg", "isAnonymous": False},
        "starRating": WORDS.get(stars, stars) if isinstance(stars, int) else stars,
        "createTime": rfc3339(created),
        "updateTime": rfc3339(updated),
    }
    if comment is not None:
        record["comment"] = comment or f"Review number {n}."
    if reply is not None:
        record["reviewReply"] = {"comment": reply, "updateTime": rfc3339(updated + timedelta(minutes=5))}
        if reply_state is not None:
            record["reviewReply"][state_field] = reply_state
    if reply_url is not None:
        record["reviewReplyUrl"] = reply_url
    return record


def listing(reviews: list[Any] | None, *, next_token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"averageRating": 4.2, "totalReviewCount": len(reviews or [])}
    if reviews:
        body["reviews"] = reviews
    if next_token:
        body["nextPageToken"] = next_token
    return body


def translated(translation: str, original: str) -> str:
    return f"(Translated by Google) {translation}\n\n(Original)\n{original}"


def original_first(original: str, translation: str) -> str:
    return f"(Original)\n{original}\n\n(Translated by Google)\n{translation}"


def reviews_path(location: str = LOCATION) -> str:
    return f"/v4/accounts/{ACCOUNT}/locations/{location}/reviews"


def reply_path(record: dict[str, Any]) -> str:
    return f"/v4/{record['name']}/reply"


def review_reply(comment: str, *, state: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"comment": comment, "updateTime": rfc3339(T0 + timedelta(days=1))}
    if state:
        body["state"] = state
    return body


def error(code: int, status: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "status": status, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def quota_zero() -> dict[str, Any]:
    """What an unapproved Cloud project gets: 429 with an ErrorInfo whose quota limit is "0"."""
    return error(429, "RESOURCE_EXHAUSTED",
                 "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service "
                 "'mybusiness.googleapis.com' for consumer 'project_number:424242'.",
                 [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                   "metadata": {"quota_limit_value": "0", "quota_metric": "mybusiness.googleapis.com/default_requests",
                                "quota_limit": "DefaultRequestsPerMinutePerProject", "service": "mybusiness.googleapis.com",
                                "consumer": "projects/424242"}}])
