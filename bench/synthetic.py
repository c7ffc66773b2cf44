"""Synthetic reviews for benchmarks: realistic lengths (5 to 120 words), all ratings,
a fixed seed so runs compare. Written by us; no dataset is shipped."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

OPENERS = ["We came for dinner", "Popped in for lunch", "Booked a table for six", "Ordered a takeaway",
           "Visited on a Sunday", "First time here", "Came back after a year", "Stopped by for coffee"]
GOOD = ["the food was excellent", "staff were friendly and quick", "the chowder was lovely", "great value",
        "a warm welcome at the door", "the dessert was perfect", "lovely view of the harbour", "spotless tables"]
BAD = ["we waited forty minutes", "the soup was cold", "the waiter was rude", "the bill was wrong",
       "our booking was lost", "the toilets were dirty", "far too noisy", "tiny portions for the price"]
NEUTRAL = ["the menu is short", "parking is tricky", "it was busy", "the music was on", "we sat outside"]
CLOSERS = ["Would come again.", "Never again.", "Recommended.", "Not sure we will return.", "Five stars.",
           "Disappointing overall.", "Thanks to the team.", "Avoid."]
NAMES = ["Ana", "Tom B.", "Aoife", "Liam", "foodie_jen", "Anonymous", "Marco", "Zoë", "Sam K.", "Priya"]


def review_text(rng: random.Random, rating: int) -> str:
    words_wanted = rng.randint(5, 120)
    pool = GOOD if rating >= 4 else BAD if rating <= 2 else GOOD + BAD + NEUTRAL
    parts = [rng.choice(OPENERS) + "."]
    while sum(len(p.split()) for p in parts) < words_wanted:
        clause = rng.choice(pool)
        if rng.random() < 0.3:
            clause += " and " + rng.choice(NEUTRAL)
        parts.append(clause.capitalize() + ".")
    parts.append(rng.choice(CLOSERS))
    return " ".join(" ".join(parts).split()[:words_wanted])


def write_reviews(path: Path, count: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            rating = rng.choices([1, 2, 3, 4, 5], weights=[15, 10, 10, 20, 45])[0]
            created = start + timedelta(minutes=37 * n)
            record = {"id": f"syn-{n}", "text": review_text(rng, rating), "rating": rating,
                      "author": rng.choice(NAMES), "created_at": created.isoformat(),
                      "title": rng.choice(["Dinner", "Lunch", None, None]), "location": rng.choice(["Harbour Front", "Old Town"])}
            out.write(json.dumps(record) + "\n")
    return path
