"""Judge one clause: which language, which act, and every rule it breaks.

Closed world: a clause may use only words its language's lexicon allows; a word no
lexicon knows, written with a capital, is a name, and a name may only greet the reviewer
(first name) or sign the reply (the writer's first name). Words refused whatever
surrounds them (value, review changes, blame, details of the case, other channels,
requests, off-topic news) are named with their category, also when split, padded or
written with digits for letters. A promise must be one of the lexicon's actions; a
request may only ask the reviewer to get in touch (or to accept an apology).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from service.replies.guard.clauses import Clause, Word
from service.replies.guard.lexicon import ACTS, PLACEHOLDERS, Lexicon

MESSAGES = {
    "value": "offers something of value in public ({found}); keep that for the private conversation",
    "review_change": "asks the reviewer to change or remove their review ({found})",
    "blame": "argues, blames or makes excuses ({found}); a public reply only acknowledges and invites",
    "facts": "gives details of the case ({found}); keep them for the private conversation",
    "other_request": "asks the reviewer for something other than getting in touch ({found})",
    "off_topic": "says something other than an acknowledgement and an invitation ({found})",
    "channels": "names a contact channel other than the configured one ({found})",
}
_LEET = str.maketrans("0134578@$", "oieastbas")
MAX_JOIN = 6


@dataclass
class ClauseJudgement:
    language: str | None = None
    act: str | None = None
    problems: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name -> "reviewer" | "writer"


@dataclass(frozen=True)
class Place:
    """What the judge needs to know of a word beyond its folded text."""

    capitalised: bool
    shown: str  # as written, for a refusal that quotes it


def choose_language(tokens: Sequence[str], lexicons: Sequence[Lexicon], preferred: str | None,
                    capitalised: Sequence[bool] = ()) -> tuple[Lexicon, float, int]:
    """The lexicon that recognises most of the words, the share of words it recognises, and
    how many words were counted. A capitalised word no lexicon knows is a name, not counted."""
    flags = list(capitalised) or [False] * len(tokens)
    counted = [t for t, cap in zip(tokens, flags) if t not in PLACEHOLDERS and not t.isdigit()
               and (not cap or any(_recognises(lex, t) for lex in lexicons))]
    if not counted:
        return _preferred(lexicons, preferred), 1.0, 0
    scored = sorted(lexicons, key=lambda lex: (-sum(_recognises(lex, t) for t in counted), lex.code != preferred))
    best = scored[0]
    return best, sum(_recognises(best, t) for t in counted) / len(counted), len(counted)


def _preferred(lexicons: Sequence[Lexicon], preferred: str | None) -> Lexicon:
    return next((lex for lex in lexicons if lex.code == preferred), lexicons[0])


def _recognises(lexicon: Lexicon, token: str) -> bool:
    if lexicon.knows(token) or token in lexicon.numbers:
        return True
    return any(phrase.matches_at([token], 0) for phrases in lexicon.forbidden.values() for phrase in phrases.phrases
               if len(phrase.words) == 1)


def judge(clause: Clause, places: Sequence[Place], lexicons: Sequence[Lexicon], *,
          preferred: str | None) -> ClauseJudgement:
    result = ClauseJudgement()
    lexicon, share, size = choose_language(clause.tokens, lexicons, preferred, [p.capitalised for p in places])
    result.language = lexicon.code
    if size >= 2 and share < 0.5:
        result.language = None
        result.problems.append("is in a language the guard cannot check; write it in "
                               + ", ".join(lex.code for lex in lexicons))
        return result
    names = _names(clause.words, places, lexicons, lexicon, result)
    tokens = [w.text for i, w in enumerate(clause.words) if i not in names]
    counted = [t for t in tokens if t not in PLACEHOLDERS]
    _forbidden(tokens, lexicon, lexicons, result)
    if any(t.isdigit() for t in counted):
        result.problems.append("gives details of the case (a number); keep them for the private conversation")
    quantities = [t for t in counted if t in lexicon.numbers]
    if quantities:
        result.problems.append(f"gives details of the case ({quantities[0]!r}); keep them for the private conversation")
    result.act = _act(tokens, lexicon)
    _promise(tokens, lexicon, result)
    if not result.problems:
        unknown = sorted({t for t in counted if not lexicon.knows(t)}, key=counted.index)
        if unknown:
            result.problems.append(
                "is none of the things a public reply may do (greet, thank, apologise, say it is taken seriously, "
                "invite contact, say who will answer, hope to welcome back, sign off): "
                + ", ".join(repr(word) for word in unknown[:4]))
    return result


def _act(tokens: Sequence[str], lexicon: Lexicon) -> str | None:
    for act in ACTS:
        if lexicon.cues[act].first(tokens):
            return act
    return None


def _names(words: Sequence[Word], places: Sequence[Place], lexicons: Sequence[Lexicon], lexicon: Lexicon,
           result: ClauseJudgement) -> set[int]:
    """Indexes of the words that are names; a name out of its place is a problem."""
    tokens = [w.text for w in words]
    unknown = [not any(lex.knows(t) or _recognises(lex, t) for lex in lexicons) and not t.isdigit() for t in tokens]
    candidates = {i for i, place in enumerate(places) if place.capitalised and unknown[i]}
    greeted = lexicon.cues["greet"].first(tokens)
    if greeted and greeted[1] < len(tokens) and unknown[greeted[1]]:
        candidates.add(greeted[1])  # "hi tom": a greeting's name, whatever its case
    if not candidates:
        return set()
    runs = _runs(sorted(candidates))
    signed = lexicon.signed.first(tokens)
    for run in runs:
        first, last = run[0], run[-1]
        if greeted and first == greeted[1]:
            role = "reviewer"
        elif signed and first == signed[1]:
            role = "writer"
        elif all(lexicon.knows(t) for i, t in enumerate(tokens) if i not in run):
            role = "writer" if first > 0 or last < len(tokens) - 1 else "reviewer or writer"
        else:
            shown = " ".join(places[i].shown for i in run)
            result.problems.append(f"names someone ({shown!r}); a reply may greet the reviewer by first name and be "
                                   "signed by its writer, no one else")
            continue
        if len(run) > 1:
            result.problems.append(f"uses a full name or a surname ({' '.join(places[i].shown for i in run)!r}); "
                                   "a first name is all a public reply may use")
        result.names[words[first].text] = role
    return candidates


def _runs(indexes: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _forbidden(tokens: list[str], lexicon: Lexicon, lexicons: Sequence[Lexicon], result: ClauseJudgement) -> None:
    exempt = [(a, b) for a, b, _ in lexicon.exempt.find(tokens)]
    seen: set[str] = set()
    for category, phrases in lexicon.forbidden.items():
        for start, end, phrase in phrases.find(tokens):
            if category not in seen and not any(a <= start and end <= b for a, b in exempt):
                seen.add(category)
                _report(result, category, repr(" ".join(tokens[start:end])))
    for category, joined, pieces in _disguised(tokens, lexicon, lexicons):
        if category not in seen:
            seen.add(category)
            _report(result, category, f"{joined!r}, written as {' '.join(pieces)!r}")
    for other in lexicons:  # a word of another language, in a clause of this one
        if other is lexicon:
            continue
        foreign = [t for t in tokens if not lexicon.knows(t)]
        for category, phrases in other.forbidden.items():
            hit = next((f for f in foreign if any(p.matches_at([f], 0) for p in phrases.phrases if len(p.words) == 1)), None)
            if hit and category not in seen and not other.knows(hit):
                seen.add(category)
                _report(result, category, repr(hit))


def _report(result: ClauseJudgement, category: str, found: str) -> None:
    result.problems.append(MESSAGES.get(category, category + " ({found})").format(found=found))


def _disguised(tokens: list[str], lexicon: Lexicon, lexicons: Sequence[Lexicon]):
    """Forbidden words put back together: 're fund', 'f r e e', 'r3fund'."""
    single = {category: [p for p in phrases.phrases if len(p.words) == 1] for category, phrases in lexicon.forbidden.items()}
    for start in range(len(tokens)):
        for size in range(1, MAX_JOIN + 1):
            pieces = tokens[start:start + size]
            if len(pieces) < size:
                break
            if size == 1 and not any(c.isdigit() for c in pieces[0]):
                continue
            if size > 1 and all(lexicon.knows(p) and len(p) > 1 for p in pieces):
                continue  # ordinary words side by side ("good will") are not a disguise
            joined = "".join(pieces).translate(_LEET)
            for category, phrases in single.items():
                if any(p.matches_at([joined], 0) for p in phrases):
                    yield category, joined, pieces
                    return


def needs_contact_request(tokens: Sequence[str], lexicon: Lexicon) -> tuple[bool, bool]:
    """(asks something, asks only to get in touch) for the request rule."""
    asked = lexicon.request_markers.first(tokens)
    if not asked:
        return False, True
    exempt = [(a, b) for a, b, _ in lexicon.exempt.find(tokens)]
    if any(a <= asked[0] and asked[1] <= b for a, b in exempt):
        return False, True
    return True, bool(lexicon.request_allowed.first(tokens[asked[0]:]))


def _promise(tokens: Sequence[str], lexicon: Lexicon, result: ClauseJudgement) -> None:
    exempt = [(a, b) for a, b, _ in lexicon.exempt.find(tokens)]
    for start, end, _ in lexicon.promise_markers.find(tokens):
        if any(a <= start and end <= b for a, b in exempt) or set(tokens[max(0, start - 2):start]) & lexicon.reviewer_words:
            continue
        if not lexicon.promise_actions.first(tokens[end:]):
            result.problems.append(f"promises something a reply may not promise (only: {lexicon.promise_summary})")
        return
