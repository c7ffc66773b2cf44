"""The guard's lexicons: one TOML file per language in lexicons/, read once per process.

A lexicon says which words a public reply may use in that language, which phrases do
each allowed act, which actions may be promised, what may be asked of the reviewer, and
which words are refused whatever surrounds them (by category, so a refusal can say why).
The rules in judge.py are the same for every language; only these lists differ.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from service.replies.guard.normalise import fold

ACTS = ("greet", "thank", "apologise", "empathise", "serious", "invite", "answer", "welcome", "sign_off")
ACKNOWLEDGING = frozenset({"thank", "apologise", "empathise"})  # the acts that may take up the rating
GAP = "~"  # in a phrase: up to MAX_GAP words of any kind ("take ~ down")
MAX_GAP = 3
PLACEHOLDERS = frozenset({"zzcontactzz", "zzotherzz", "zzbusinesszz"})


@dataclass(frozen=True)
class Phrase:
    """Words to match in a row; a word ending in * matches any word that starts with it."""

    words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Phrase:
        return cls(tuple(re.findall(r"\*?[^\W_]+\*?|~", fold(text).replace("'", " "))))

    def end_at(self, tokens: Sequence[str], index: int, word: int = 0) -> int | None:
        """Where the phrase ends if it starts at tokens[index]; "~" skips up to three words."""
        if word == len(self.words):
            return index
        if self.words[word] == GAP:
            for skip in range(MAX_GAP + 1):
                end = self.end_at(tokens, index + skip, word + 1)
                if end is not None:
                    return end
            return None
        if index < len(tokens) and _word_matches(self.words[word], tokens[index]):
            return self.end_at(tokens, index + 1, word + 1)
        return None

    def __str__(self) -> str:
        return " ".join(self.words)


def _word_matches(word: str, token: str) -> bool:
    if word.startswith("*"):  # "*geld": the end of a compound (Trinkgeld)
        return token.endswith(word[1:]) and len(token) > len(word) - 1
    return token.startswith(word[:-1]) if word.endswith("*") else token == word


class Phrases:
    """A list of phrases, searched in a clause's words: indexed by their first word, so
    a search costs a dictionary look-up per word, not a try of every phrase."""

    def __init__(self, phrases: Iterable[str]):
        self.phrases = tuple(p for p in (Phrase.parse(text) for text in phrases) if p.words and p.words[0] != GAP)
        self._by_word: dict[str, list[Phrase]] = {}
        self._by_stem: list[tuple[str, Phrase]] = []
        self._by_ending: list[tuple[str, Phrase]] = []
        for phrase in self.phrases:
            first = phrase.words[0]
            if first.startswith("*"):
                self._by_ending.append((first[1:], phrase))
            elif first.endswith("*"):
                self._by_stem.append((first[:-1], phrase))
            else:
                self._by_word.setdefault(first, []).append(phrase)
        endings = sorted({re.escape(end) for end, _ in self._by_ending}, key=len, reverse=True)
        self._endings = re.compile(r"\w(?:" + "|".join(endings) + r")$") if endings else None
        self._stems = prefix_pattern(stem for stem, _ in self._by_stem)
        singles = [p.words[0] for p in self.phrases if len(p.words) == 1]
        self._single_words = frozenset(w for w in singles if not w.endswith("*") and not w.startswith("*"))
        self._single_stems = prefix_pattern(w[:-1] for w in singles if w.endswith("*"))
        self._single_endings = [w[1:] for w in singles if w.startswith("*")]

    def _starting(self, token: str) -> list[Phrase]:
        found = self._by_word.get(token, [])
        if self._stems is not None and self._stems.match(token):
            found = [*found, *(phrase for stem, phrase in self._by_stem if token.startswith(stem))]
        if self._endings is not None and self._endings.search(token):
            found = [*found, *(phrase for end, phrase in self._by_ending if _word_matches("*" + end, token))]
        return found

    def find(self, tokens: Sequence[str]) -> Iterator[tuple[int, int, Phrase]]:
        for index, token in enumerate(tokens):
            for phrase in self._starting(token):
                end = phrase.end_at(tokens, index)
                if end is not None:
                    yield index, end, phrase

    def first(self, tokens: Sequence[str]) -> tuple[int, int, Phrase] | None:
        return next(self.find(tokens), None)

    def has_word(self, token: str) -> bool:
        """Whether a one-word phrase of the list matches `token`."""
        return (token in self._single_words or bool(self._single_stems and self._single_stems.match(token))
                or any(_word_matches("*" + end, token) for end in self._single_endings))

    def words(self) -> Iterator[str]:
        for phrase in self.phrases:
            yield from (word for word in phrase.words if word != GAP)


def prefix_pattern(stems: Iterable[str]) -> re.Pattern[str] | None:
    """One compiled pattern that matches a word starting with any of `stems`."""
    unique = sorted(set(stems), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, unique))) if unique else None


@dataclass(frozen=True, eq=False)
class Lexicon:
    code: str
    contractions: tuple[tuple[str, str], ...]
    plain_words: frozenset[str]
    stems: tuple[str, ...]
    problem_words: frozenset[str]
    cues: dict[str, Phrases]
    promise_markers: Phrases
    promise_actions: Phrases
    request_markers: Phrases
    request_allowed: Phrases
    signed: Phrases
    numbers: frozenset[str]
    digits: frozenset[str]
    exempt: Phrases
    forbidden: dict[str, Phrases]
    joiners: frozenset[str]
    promise_summary: str
    promise_reach: int  # words that may stand between "we will" and the action ("we will personally call")
    speakers: frozenset[str]
    roles: frozenset[str]  # speakers that are people's roles ("manager"), not pronouns ("we")
    titles: frozenset[str]
    people: frozenset[str]  # "waiter", "jefa": a name right after one is that person's
    relatives: frozenset[str]  # "who", "qui": after a name, they describe someone else
    not_joining_after: dict[str, frozenset[str]]  # "y" after "nous" joins nothing (French)
    rating_words: frozenset[str]
    capitalised_nouns: bool  # German: a capital does not make a word a name
    refused_words: frozenset[str]
    refused_stems: tuple[str, ...]

    def recognises(self, token: str) -> bool:
        """Whether `token` is a word of this language at all, allowed or refused."""
        return (self.knows(token) or token in self.numbers or token in self.refused_words
                or bool(self.refused_pattern and self.refused_pattern.match(token)))

    def refuses_word(self, token: str) -> bool:
        """Whether `token` alone is a refused word ("refund"), not merely a word of a refused phrase."""
        return any(phrases.has_word(token) for phrases in self.forbidden.values())

    def knows(self, token: str) -> bool:
        """Whether `token` is a word a reply in this language may use."""
        return (token in self.plain_words or token in PLACEHOLDERS
                or bool(self.stem_pattern and self.stem_pattern.match(token)))

    @cached_property
    def stem_pattern(self) -> re.Pattern[str] | None:
        return prefix_pattern(self.stems)

    @cached_property
    def long_stem_pattern(self) -> re.Pattern[str] | None:
        """Stems of five letters or more, allowed or refused: long enough to rejoin a cut word to."""
        return prefix_pattern(stem for stem in (*self.stems, *self.refused_stems) if len(stem) >= 5)

    @cached_property
    def refused_pattern(self) -> re.Pattern[str] | None:
        return prefix_pattern(self.refused_stems)


def _words(text: str) -> set[str]:
    return {fold(word) for word in text.split()}


def parse(raw: dict) -> Lexicon:
    cues = {act: Phrases(raw["cues"].get(act, [])) for act in ACTS}
    forbidden = {category: Phrases(items) for category, items in raw.get("forbidden", {}).items()}
    if any(GAP in phrase for phrase in raw.get("exempt", {}).get("phrases", [])):
        raise ValueError(f"{raw['language']}: an exempt phrase may not skip words ({GAP!r}): "
                         "a refused word in the gap would be exempt too")
    promise = raw.get("promise", {})
    request = raw.get("request", {})
    phrase_lists = [*cues.values(), Phrases(promise.get("markers", [])), Phrases(promise.get("actions", [])),
                    Phrases(request.get("markers", [])), Phrases(request.get("allowed", [])),
                    Phrases(raw.get("names", {}).get("signed", [])), Phrases(raw.get("exempt", {}).get("phrases", []))]
    vocabulary = (_words(raw["words"]["function"]) | _words(raw["words"]["allowed"]) | _words(raw["words"].get("problem", ""))
                  | _words(" ".join(raw.get("names", {}).get("titles", []))))
    for phrases in phrase_lists:
        vocabulary.update(phrases.words())
    return Lexicon(
        code=raw["language"],
        contractions=tuple((fold(k), fold(v)) for k, v in raw.get("contractions", {}).items()),
        plain_words=frozenset(w for w in vocabulary if "*" not in w),
        stems=tuple(sorted({w[:-1] for w in vocabulary if w.endswith("*") and len(w) > 3})),
        problem_words=frozenset(_words(raw["words"].get("problem", ""))),
        cues=cues,
        promise_markers=phrase_lists[len(ACTS)],
        promise_actions=phrase_lists[len(ACTS) + 1],
        request_markers=phrase_lists[len(ACTS) + 2],
        request_allowed=phrase_lists[len(ACTS) + 3],
        signed=phrase_lists[len(ACTS) + 4],
        numbers=frozenset(_words(raw.get("numbers", {}).get("words", ""))),
        digits=frozenset(_words(raw.get("numbers", {}).get("digits", ""))),
        exempt=phrase_lists[len(ACTS) + 5],
        forbidden=forbidden,
        joiners=frozenset(_words(" ".join(raw.get("clauses", {}).get("joiners", [])))),
        promise_summary=promise.get("summary", ""),
        promise_reach=int(promise.get("reach", 2)),
        speakers=frozenset(_words(" ".join(promise.get("speakers", [])))),
        roles=frozenset(_words(" ".join(promise.get("speakers", [])))) - _words(raw["words"]["function"]),
        titles=frozenset(_words(" ".join(raw.get("names", {}).get("titles", [])))),
        people=frozenset(_words(" ".join(raw.get("names", {}).get("people", [])))),
        relatives=frozenset(_words(" ".join(raw.get("names", {}).get("relatives", [])))),
        not_joining_after={fold(word): frozenset(_words(" ".join(after)))
                           for word, after in raw.get("clauses", {}).get("not_joining_after", {}).items()},
        rating_words=frozenset(_words(" ".join(raw.get("rating", {}).get("words", [])))),
        capitalised_nouns=bool(raw.get("names", {}).get("capitalised_nouns", False)),
        refused_words=frozenset(w for phrases in forbidden.values() for w in phrases.words() if "*" not in w),
        refused_stems=tuple(sorted({w[:-1] for phrases in forbidden.values() for w in phrases.words()
                                    if w.endswith("*") and len(w) > 3})),
    )


@cache
def bundled() -> tuple[Lexicon, ...]:
    """Every language the guard reads, from lexicons/*.toml."""
    folder = resources.files(__package__).joinpath("lexicons")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            found.append(parse(tomllib.loads(entry.read_text(encoding="utf-8"))))
    return tuple(found)


@dataclass(frozen=True)
class Shared:
    """Words every language's clauses are cut and read by, gathered once per process."""

    joiners: frozenset[str]
    titles: frozenset[str]
    people: frozenset[str]
    relatives: frozenset[str]
    not_joining_after: dict[str, frozenset[str]]
    roles: frozenset[str]
    digit_words: frozenset[str]  # to spell a phone number out, in any of the languages


@cache
def shared() -> Shared:
    lexicons = bundled()
    return Shared(
        joiners=frozenset(j for lex in lexicons for j in lex.joiners),
        titles=frozenset(t for lex in lexicons for t in lex.titles),
        people=frozenset(w for lex in lexicons for w in lex.people),
        relatives=frozenset(w for lex in lexicons for w in lex.relatives),
        not_joining_after={word: frozenset(w for lex in lexicons for w in lex.not_joining_after.get(word, ()))
                           for word in {w for lex in lexicons for w in lex.not_joining_after}},
        roles=frozenset(r for lex in lexicons for r in lex.roles),
        digit_words=frozenset(w for lex in lexicons for w in lex.numbers | lex.digits)
        | {"one", "uno", "un", "une", "eins", "ein", "cero", "null"},
    )


def languages() -> tuple[str, ...]:
    return tuple(lexicon.code for lexicon in bundled())


def for_language(code: str) -> Lexicon | None:
    return next((lexicon for lexicon in bundled() if lexicon.code == code), None)
