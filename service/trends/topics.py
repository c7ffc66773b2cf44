"""Topic tagging of negative reviews: [topics] keywords found in a review's title, text
or translation (whole words, a trailing * matches any ending, as for [escalation]).
"""


from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.reading import marks


class TopicMatcher:
    """Finds the [topics] a review mentions, with the rules of [escalation] keywords (whole
    words; a trailing * matches any ending; case and Unicode width ignored).

    Tagging a million reviews must take seconds, and a regular expression per keyword tried
    at every position of every text does not (about 60 µs a review). So a text is split
    into its words once: one-word keywords are then a set intersection, prefixes a
    bisection of the sorted words, and only keywords of several words (or with punctuation)
    run their own expression, and only on texts that have all their words."""

    def __init__(self, lexicon: Mapping[str, Sequence[str]]):
        self.lexicon = {topic: list(words) for topic, words in lexicon.items()}
        self.rules = {topic: _TopicRule.of(words) for topic, words in self.lexicon.items()}

    @property
    def fingerprint(self) -> str:
        """Changes when the keywords do: the stored topics must then be found again."""
        return hashlib.sha256(json.dumps(self.lexicon, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def topics(self, *texts: str | None) -> list[str]:
        words = _Words(marks._fold(" ".join(text for text in texts if text)))
        return [topic for topic, rule in self.rules.items() if rule.found(words)]


_WORD = re.compile(r"\w+")
_ASCII_NON_WORD = bytes.maketrans(
    bytes(c for c in range(128) if not (chr(c).isalnum() or c == ord("_"))),
    b" " * sum(1 for c in range(128) if not (chr(c).isalnum() or c == ord("_"))),
)


def _split_words(body: str) -> list[str]:
    """The runs of word characters in a text; without the regex for ASCII text (most reviews): 3x faster."""
    if body.isascii():
        return body.encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()
    return _WORD.findall(body)


class _Words:
    """The words of a folded text."""

    def __init__(self, body: str):
        self.body = body
        self.set = set(_split_words(body))
        self.sorted = sorted(self.set)

    def has_prefix(self, prefix: str) -> bool:
        at = bisect_left(self.sorted, prefix)
        return at < len(self.sorted) and self.sorted[at].startswith(prefix)


@dataclass(frozen=True)
class _Phrase:
    """A keyword of several words or with punctuation: every one of its words must be in the
    text (the last as a prefix if it ends in *) before its expression is worth running."""

    inner: frozenset[str]
    last: str
    prefix: bool
    pattern: re.Pattern[str]

    def found(self, words: _Words) -> bool:
        if not self.inner <= words.set:
            return False
        if self.last and not (words.has_prefix(self.last) if self.prefix else self.last in words.set):
            return False
        return self.pattern.search(words.body) is not None


@dataclass(frozen=True)
class _TopicRule:
    words: frozenset[str]  # one-word keywords
    prefixes: tuple[str, ...]  # one-word keywords ending in *
    phrases: tuple[_Phrase, ...]

    @classmethod
    def of(cls, keywords: Sequence[str]) -> _TopicRule:
        words, prefixes, phrases = set(), [], []
        for keyword in keywords:
            folded = marks._fold(keyword.strip())
            core, prefix = folded.rstrip("*"), folded.endswith("*")
            if _WORD.fullmatch(core) and prefix:
                prefixes.append(core)
            elif _WORD.fullmatch(core):
                words.add(core)
            else:
                parts = _WORD.findall(core)
                phrases.append(_Phrase(frozenset(parts[:-1]), parts[-1] if parts else "", prefix,
                                       marks._keyword_pattern(keyword)))
        return cls(frozenset(words), tuple(prefixes), tuple(phrases))

    def found(self, words: _Words) -> bool:
        if not self.words.isdisjoint(words.set):
            return True
        for prefix in self.prefixes:  # a loop, not any(): this runs a few million times per rebuild
            if words.has_prefix(prefix):
                return True
        for phrase in self.phrases:
            if phrase.found(words):
                return True
        return False


