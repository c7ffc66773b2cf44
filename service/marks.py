"""Marks that change how an owner handles a review, decided from its text alone.

- escalate: a negative review that mentions legal action, injury, illness, safety,
  discrimination or harassment (keyword lists from [escalation] in the config). Sorted
  to the top of the inbox; only an owner may act on its draft. ("Dangerous place 😄"
  in a five-star review is praise: the caller keeps the mark for negative reviews.)
- triage: it looks like spam or a fake review, so the owner may report it to the
  platform instead of replying: links or contact-for-money text, no specifics at all,
  or the very same text posted by another reviewer.

Both are recomputed whenever the review's text changes. Pure functions: the caller
stores the result.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

TextMarks = tuple[str | None, str | None, str | None]  # text hash, escalation, triage (as if not a copy)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LINK = re.compile(r"https?://|www\.", re.I)
_SPAM = re.compile(
    r"\b(?:dm me|whatsapp|telegram|crypto|bitcoin|earn \$?\d+|work from home|click here|visit now|promo code|cheap[- ]deals|"
    r"followers|casino|loan)\b",
    re.I,
)
GENERIC = frozenset(
    "best place ever amazing awesome great good nice perfect excellent love loved highly recommend recommended "
    "must visit go five stars star worst bad terrible awful horrible ok okay the a an and very so this is was it "
    "place service food everything".split()
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=4096)
def _keyword_pattern(word: str) -> re.Pattern[str]:
    """Whole words; a trailing * matches any ending ("harass*": harassed, harassment).
    Cached: escaping and compiling each keyword for every review was a tenth of a poll's CPU."""
    folded = _fold(word.strip())
    prefix = folded.endswith("*")
    core = re.escape(folded.rstrip("*")).replace(r"\ ", r"\s+")
    return re.compile(r"(?<!\w)" + core + ("" if prefix else r"(?!\w)"))


@lru_cache(maxsize=64)
def _key_tokens(words: tuple[str, ...]) -> tuple[tuple[frozenset[str], str | None], ...]:
    """For each keyword, the words a text must hold for it to match: (whole words, the
    start of the last word when the keyword ends in *)."""
    keys = []
    for word in words:
        folded = _fold(word.strip())
        tokens = _WORD.findall(folded.rstrip("*"))
        if not tokens:
            continue
        if folded.endswith("*"):
            keys.append((frozenset(tokens[:-1]), tokens[-1]))
        else:
            keys.append((frozenset(tokens), None))
    return tuple(keys)


def _may_match(body: str, words: tuple[str, ...]) -> bool:
    """A cheap test that no keyword can match: most reviews hold none, and searching
    each keyword's pattern in each review was most of the marks' cost."""
    tokens = set(_WORD.findall(body))
    starts: dict[int, set[str]] = {}  # the tokens cut to each length a keyword's start has
    for whole, start in _key_tokens(words):
        if not whole <= tokens:
            continue
        if start is None:
            return True
        if len(start) not in starts:
            starts[len(start)] = {token[:len(start)] for token in tokens}
        if start in starts[len(start)]:
            return True
    return False


def escalation(text: str, title: str | None, keywords: Mapping[str, list[str]]) -> str | None:
    """The reasons this review needs an owner, with the word that showed it, or None."""
    body = _fold(" ".join(p for p in (title, text) if p))
    if not _may_match(body, tuple(word for listed in keywords.values() for word in listed)):
        return None
    reasons = []
    for reason, words in keywords.items():
        for word in words:
            if _keyword_pattern(word).search(body):
                reasons.append(f"{reason} ({word.rstrip('*')})")
                break
    return ", ".join(reasons) or None


def read(text: str, title: str | None, keywords: Mapping[str, list[str]]) -> TextMarks:
    """What the text alone says; whether it is a copy of another review needs the database."""
    return text_hash(text), escalation(text, title, keywords), triage(text, title)


def text_hash(text: str) -> str | None:
    """Identifies the same words from different reviewers (case, spacing, punctuation aside);
    None for texts too short to mean anything when repeated."""
    words = _WORD.findall(_fold(text))
    if len(words) < 6:
        return None
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def triage(text: str, title: str | None, *, duplicate_of: int | None = None) -> str | None:
    """Why this review looks like spam or a fake, or None."""
    if duplicate_of is not None:
        return f"the same text as review {duplicate_of} by another reviewer"
    body = " ".join(p for p in (title, text) if p)
    if spam := _SPAM.search(body):
        return f"reads like spam ({spam.group(0)!r})"
    if _LINK.search(body):
        return "contains a link"
    if "!" * 3 not in body:  # checked first: cheap, and rare, unlike reading the words
        return None
    words = _WORD.findall(_fold(body))
    if 3 <= len(words) <= 12 and all(w in GENERIC for w in words):
        return "no specifics, only generic praise or abuse"
    return None
