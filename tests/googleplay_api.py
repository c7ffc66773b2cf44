"""Builds Google Play Developer API v3 reviews responses in the documented shape:
timestamps as {"seconds": "<int as a string>", "nanos": int}, "title<TAB>body" text,
the developer's reply as a second entry of `comments`, `tokenPagination` only when
another page follows, and the standard Google error object."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BASE = "https://play.example"
TOKEN_URL = "https://oauth.example/token"
PACKAGE = "com.harbourlane.bistro"
APP_PATH = f"/androidpublisher/v3/applications/{PACKAGE}"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def play_time(moment: datetime) -> dict[str, Any]:
    seconds = int(moment.timestamp())
    return {"seconds": str(seconds), "nanos": (moment - datetime.fromtimestamp(seconds, timezone.utc)).microseconds * 1000}


def review_id(n: int) -> str:
    return f"gp:AOqpTOH{n:06d}-x_Y"


def review(
    n: int, *, text: str | None = None, rating: int | str | None = 4, minutes_ago: float | None = None, author: str = "",
    language: str = "en", reply: str | None = None, original: str | None = None,
) -> dict[str, Any]:
    """Review n, changed n minutes before T0 unless told otherwise (newer first)."""
    changed = T0 - timedelta(minutes=n if minutes_ago is None else minutes_ago)
    user: dict[str, Any] = {
        "text": f"Review number {n}." if text is None else text,
        "lastModified": play_time(changed),
        "starRating": rating,
        "reviewerLanguage": language,
        "device": "a52q", "androidOsVersion": 34, "appVersionCode": 12345, "appVersionName": "1.2.3",
        "thumbsUpCount": 0, "thumbsDownCount": 0,
        "deviceMetadata": {"productName": "a52q (Galaxy A52)", "manufacturer": "Samsung", "deviceClass": "phone"},
    }
    if rating is None:
        del user["starRating"]
    if original is not None:
        user["originalText"] = original
    comments: list[dict[str, Any]] = [{"userComment": user}]
    if reply is not None:
        comments.append({"developerComment": {"text": reply, "lastModified": play_time(changed + timedelta(hours=1))}})
    return {"reviewId": review_id(n), "authorName": author or f"User {n}", "comments": comments}


def listing(reviews: list[Any], next_token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"reviews": reviews, "pageInfo": {"totalResults": len(reviews), "resultPerPage": len(reviews), "startIndex": 0}}
    if not reviews:
        del body["reviews"]  # Google leaves empty repeated fields out
    if next_token is not None:
        body["tokenPagination"] = {"nextPageToken": next_token}
    return body


def reply_result(text: str, edited: datetime) -> dict[str, Any]:
    return {"result": {"replyText": text, "lastEdited": play_time(edited)}}


def google_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def token_answer(token: str = "ya29.play-token") -> dict[str, Any]:
    return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


def service_account_file(folder: Path) -> Path:
    """A throw-away service-account key file whose token_uri is TOKEN_URL."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    path = folder / "play-service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "harbour-lane", "private_key_id": "abc123",
        "private_key": pem, "client_email": "reviewmon@harbour-lane.iam.gserviceaccount.example",
        "client_id": "1234567890", "token_uri": TOKEN_URL,
    }), encoding="utf-8")
    return path
