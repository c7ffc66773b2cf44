"""Builds web pages carrying schema.org JSON-LD the ways sites publish it: reviews nested
under a business or product, in an @graph, as a top-level list; with AggregateRating
beside them; "</" escaped inside the JSON as careful sites do."""

from __future__ import annotations

import json
from typing import Any

SITE = "https://harbourlane.example"
PAGE_URL = SITE + "/reviews"
CONTEXT = "https://schema.org"


def review(n: int, *, rating: Any = 4, best: Any = None, worst: Any = None, body: str | None = None,
           author: Any = None, published: str | None = None, modified: str | None = None,
           title: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Review as a business site writes it; pass rating=None for none, body=None for the default text."""
    node: dict[str, Any] = {
        "@type": "Review",
        "author": author if author is not None else {"@type": "Person", "name": f"Guest {n}"},
        "datePublished": published or f"2026-10-{n % 28 + 1:02d}",
        "reviewBody": body if body is not None else f"Visit number {n} was lovely.",
        "name": title or f"Visit {n}",
    }
    if rating is not None:
        node["reviewRating"] = {"@type": "Rating", "ratingValue": rating}
        if best is not None:
            node["reviewRating"]["bestRating"] = best
        if worst is not None:
            node["reviewRating"]["worstRating"] = worst
    if modified is not None:
        node["dateModified"] = modified
    node.update(extra)
    return node


def aggregate(value: Any = "4.4", count: Any = "87") -> dict[str, Any]:
    return {"@type": "AggregateRating", "ratingValue": value, "reviewCount": count, "bestRating": "5"}


def business(reviews: list[dict[str, Any]] | dict[str, Any], *, kind: str = "LocalBusiness") -> dict[str, Any]:
    return {"@context": CONTEXT, "@type": kind, "name": "Harbour Lane Bistro", "aggregateRating": aggregate(), "review": reviews}


def graph(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, "@graph": list(nodes)}


def block(data: Any) -> str:
    """One script element; "</" is written "<\\/" as JSON allows, so text cannot end it."""
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


def html(*blocks: Any, charset: str = "utf-8") -> str:
    """A page around the given blocks: data is written with block(), a str goes in as is."""
    body = "\n".join(b if isinstance(b, str) else block(b) for b in blocks)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="{charset}"><title>Reviews</title>\n'
        '<script>window.dataLayer = [];</script>\n'
        f'{body}\n</head><body><h1>What our guests say</h1><p>Thanks &amp; see you soon.</p></body></html>'
    )
