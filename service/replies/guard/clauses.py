"""Cut a folded reply into sentences and clauses, each a list of words with their places.

Sentences end at . ! ? … followed by a space or the end, and at line breaks ("r.e.f.u.n.d"
is one word, not five sentences). Clauses end at , ; : brackets and dashes, and start
again at a joining word of any language ("and", "but", "y", "mais", "und"): the joining
word stays in the clause it opens, so "but" is judged where it stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_SENTENCE_END = re.compile(r"[.!?…]+(?=[ \t\r\n]|$)|\n+")  # a no-break space after a dot cuts a word
_CLAUSE_END = re.compile(r"[,;:()\[\]\"“”«»]|(?<=\s)[-–—]+(?=\s)|[–—]")
CUTS = ("-", ".", "_", "/", "*", "\u00a0")  # between two pieces of one word, not between two words
def is_cut(gap: str) -> bool:
    """Whether what stands between two pieces cuts one word ("re-fund", "WHAT.\u00a0SAPP")."""
    return bool(gap) and all(ch in CUTS for ch in gap)


WORD = re.compile(r"zz[a-z]+zz|[^\W_]+")


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int


@dataclass
class Clause:
    start: int
    end: int
    sentence: int
    words: list[Word] = field(default_factory=list)

    gaps: list[str] = field(default_factory=list)  # what stands before each word, after the one before

    @property
    def tokens(self) -> list[str]:
        return [w.text for w in self.words]


def split(text: str, joiners: Iterable[str], titles: Iterable[str] = (),
          not_joining_after: Mapping[str, frozenset[str]] | None = None) -> list[Clause]:
    joining, short, unless = frozenset(joiners), frozenset(titles), not_joining_after or {}
    clauses: list[Clause] = []
    for sentence_index, (s_start, s_end) in enumerate(_pieces(text, 0, len(text), _SENTENCE_END, short)):
        for c_start, c_end in _pieces(text, s_start, s_end, _CLAUSE_END):
            current = Clause(c_start, c_end, sentence_index)
            words = list(WORD.finditer(text, c_start, c_end))
            for index, match in enumerate(words):
                if match.group() in joining and current.words and _joins(words, index, text, unless):
                    current.end = match.start()
                    clauses.append(current)
                    current = Clause(match.start(), c_end, sentence_index)
                current.gaps.append(text[current.words[-1].end:match.start()] if current.words else "")
                current.words.append(Word(match.group(), match.start(), match.end()))
            if current.words:
                clauses.append(current)
    return clauses


def _joins(words: list[re.Match[str]], index: int, text: str, unless: Mapping[str, frozenset[str]]) -> bool:
    """A joining word joins words, not the pieces of a cut word ("ref-und") nor letters
    spelled out ("r e v i s e": one-letter joiners "y", "e", "o")."""
    if index and is_cut(text[words[index - 1].end():words[index].start()]):
        return False
    if len(words[index].group()) > 1:
        return True
    if index and words[index - 1].group() in unless.get(words[index].group(), ()):
        return False  # "nous y pencher", "il y a": French "y" (there), not Spanish "y" (and)
    neighbours = [words[i].group() for i in (index - 1, index + 1) if 0 <= i < len(words)]
    return all(len(word) > 1 for word in neighbours)


def _pieces(text: str, start: int, end: int, boundary: re.Pattern[str],
            titles: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """The stretches between boundaries; a title's full stop ("Mr. Pereira") is no boundary."""
    pieces = []
    position = start
    for match in boundary.finditer(text, start, end):
        before = WORD.findall(text, position, match.start())
        if match.group().startswith(".") and before and before[-1] in titles:
            continue
        pieces.append((position, match.end()))
        position = match.end()
    pieces.append((position, end))
    return [(a, b) for a, b in pieces if text[a:b].strip()]
