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
# Both are searched in the folded text (_fold): lower case already, and a case-blind search
# cost Python's regex engine more than twice as much.
_LINK = re.compile(r"https?://|www\.")
_SPAM = re.compile(
    r"\b(?:dm me|whatsapp|telegram|crypto|bitcoin|earn \$?\d+|work from home|click here|visit now|promo code|cheap[- ]deals|"
    r"followers|casino|loan)\b"
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
def _any_keyword(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that matches where any keyword's would: most reviews hold none, and one
    search is three times faster than testing the review's words against each keyword."""
    cores = [_keyword_pattern(word).pattern.removeprefix(r"(?<!\w)") for word in words if _WORD.search(word)]
    return re.compile(r"(?<!\w)(?:" + "|".join(cores) + ")" if cores else r"(?!)")  # a keyword of no letters matches nothing


def escalation(text: str, title: str | None, keywords: Mapping[str, list[str]]) -> str | None:
    """The reasons this review needs an owner, each with the word that showed it as the
    review wrote it ("discrimination (Racist)", not the keyword "racis*"), or None."""
    return _escalation(_fold(" ".join(p for p in (title, text) if p)), keywords, text, title)


def _escalation(body: str, keywords: Mapping[str, list[str]], text: str, title: str | None) -> str | None:
    """escalation() of the folded title and text (`body`)."""
    if not _any_keyword(tuple(word for listed in keywords.values() for word in listed)).search(body):
        return None
    written = f"{title} {text}" if title else text  # as `body` was before folding
    reasons = []
    for reason, words in keywords.items():
        for word in words:
            # a keyword of no letters matches nothing
            if _WORD.search(word) and (found := _keyword_pattern(word).search(body)):
                reasons.append(f"{reason} ({_as_written(found, body, written)})")
                break
    return ", ".join(reasons) or None


_WORD_REST = re.compile(r"\w*")


def _as_written(found: re.Match[str], body: str, written: str) -> str:
    """The words a keyword matched, to the end of the last one ("racis*" finds "racist"),
    as the review wrote them. Folding keeps the length of nearly every text, so the same
    place in the text as written holds them; where it did not (a "ß" became "ss"), the
    folded words are shown."""
    end = _WORD_REST.match(body, found.end()).end()
    words = body[found.start():end]
    if len(written) == len(body) and _fold(written[found.start():end]) == words:
        return written[found.start():end]
    return words


def read(text: str, title: str | None, keywords: Mapping[str, list[str]], translation: str | None = None) -> TextMarks:
    """What the text alone says; whether it is a copy of another review needs the database.
    A review whose platform sent only its translation (no text) is read in the translation.

    The text is folded once for all three marks (each folding it again was a third of their cost)."""
    written = text if text.strip() or not translation else translation
    folded = _fold(written)
    body = f"{_fold(title)} {folded}" if title else folded  # folding is per character: the same as folding both joined
    return _text_hash(folded), _escalation(body, keywords, written, title), _triage(body)


def text_hash(text: str) -> str | None:
    """Identifies the same words from different reviewers (case, spacing, punctuation aside);
    None for texts too short to mean anything when repeated."""
    return _text_hash(_fold(text))


def _text_hash(folded: str) -> str | None:
    words = _WORD.findall(folded)
    if len(words) < 6:
        return None
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def triage(text: str, title: str | None, *, duplicate_of: int | None = None) -> str | None:
    """Why this review looks like spam or a fake, or None."""
    if duplicate_of is not None:
        return f"the same text as review {duplicate_of} by another reviewer"
    return _triage(_fold(" ".join(p for p in (title, text) if p)))


def _triage(body: str) -> str | None:
    """triage() of the folded title and text, not a copy."""
    if spam := _SPAM.search(body):
        return f"reads like spam ({spam.group(0)!r})"
    if ("http" in body or "www." in body) and _LINK.search(body):  # the substring test skips the regex for most texts
        return "contains a link"
    if "!" * 3 not in body:  # checked first: cheap, and rare, unlike reading the words
        return None
    words = _WORD.findall(body)
    if 3 <= len(words) <= 12 and all(w in GENERIC for w in words):
        return "no specifics, only generic praise or abuse"
    return None
