"""Builds Yelp Places (v3) and Tripadvisor Content API review responses in their
documented shapes (shared/platform-apis.md sections 4 and 6)."""

from __future__ import annotations

from typing import Any

# --- Yelp ------------------------------------------------------------------------------

YELP_BASE = "https://yelp.example"
YELP_BUSINESS = "harbour-lane-bistro-portland"
YELP_PATH = f"/v3/businesses/{YELP_BUSINESS}/reviews"
YELP_KEY = "yelp-key-0123456789"


def yelp_review(n: int, *, text: str | None = None, rating: Any = 4, time_created: str = "2026-04-18 19:32:11") -> dict[str, Any]:
    """One entry of `reviews`; `time_created` is Pacific time without a zone, as Yelp sends it."""
    return {
        "id": f"yRev{n:04d}-t1ubbwVAlPnDKg",
        "url": f"https://www.yelp.com/biz/{YELP_BUSINESS}?adjust_creative=abc&hrid=yRev{n:04d}&utm_source=abc",
        "text": f"Excerpt of review {n}..." if text is None else text,
        "rating": rating,
        "time_created": time_created,
        "user": {
            "id": f"user{n}",
            "profile_url": f"https://www.yelp.com/user_details?userid=user{n}",
            "image_url": None,
            "name": f"Ella {chr(65 + n % 26)}.",
        },
    }


def yelp_reviews(reviews: list[Any], *, total: int | None = None) -> dict[str, Any]:
    return {"reviews": reviews, "total": len(reviews) if total is None else total, "possible_languages": ["en", "es"]}


def yelp_error(code: str, description: str) -> dict[str, Any]:
    return {"error": {"code": code, "description": description}}


# --- Tripadvisor -----------------------------------------------------------------------

TA_BASE = "https://tripadvisor.example"
TA_LOCATION = "89575"
TA_PATH = f"/api/v1/location/{TA_LOCATION}/reviews"
TA_KEY = "TAKEY0123456789ABCDEF"


def ta_review(n: int, *, text: str | None = None, rating: Any = 4, published: str = "2026-11-20T14:05:09Z",
              owner_response: Any = None, lang: str = "en", title: str | None = None) -> dict[str, Any]:
    """One entry of `data`; `id` is a number, as Tripadvisor sends it."""
    return {
        "id": 900_000_000 + n,
        "lang": lang,
        "location_id": int(TA_LOCATION),
        "published_date": published,
        "rating": rating,
        "helpful_votes": n % 3,
        "rating_image_url": "https://www.tripadvisor.com/img/cdsi/img2/ratings/traveler/s4.0-0.svg",
        "url": f"https://www.tripadvisor.com/ShowUserReviews-g60745-d{TA_LOCATION}-r{900_000_000 + n}.html",
        "trip_type": "Couples",
        "travel_date": "2026-10",
        "text": f"Review {n} of our stay." if text is None else text,
        "title": f"Stay {n}" if title is None else title,
        "owner_response": owner_response,
        "is_machine_translated": False,
        "user": {"username": f"traveller{n}", "user_location": {"id": "60745", "name": "Boston, Massachusetts"},
                 "avatar": {"thumbnail": "https://media-cdn.tripadvisor.com/media/photo-t/avatar.jpg"}},
        "subratings": {"0": {"name": "RATE_VALUE", "localized_name": "Value", "value": 4}},
    }


def ta_owner_response(text: str) -> dict[str, Any]:
    return {"id": 1234, "title": "Owner response", "text": text, "lang": "en", "author": "GM", "published_date": "2026-11-21T09:00:00Z"}


def ta_reviews(reviews: list[Any]) -> dict[str, Any]:
    return {"data": reviews}
