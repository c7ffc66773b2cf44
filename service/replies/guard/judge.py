"""Judge one clause: which language, which act, and every rule it breaks.

Closed world: a clause that does none of a reply's acts may use only words its
language's lexicon allows (in any inflection: dictionaries.py gives the dictionary form);
one that does an act may add one word of its own ("sorry about the draught"), never a
telling of the case. A word no lexicon knows, written with a capital, is a name (in
German only if it is no noun: a first name, a word no dictionary knows, or one beside a
title or a name), and a name may only greet the reviewer (first name) or sign the reply
(the writer's first name). Words refused whatever surrounds them (value, review changes,
blame, details of the case, other channels, requests, off-topic news) are named with
their category, also when split, padded or written with digits for letters. A promise
must be one of the lexicon's actions, close after its marker; a request may only ask the
reviewer to get in touch (or to accept an apology).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from service.replies.guard import dictionaries
from service.replies.guard.clauses import Clause, Word, is_cut
from service.replies.guard.lexicon import ACKNOWLEDGING, ACTS, PLACEHOLDERS, Lexicon, shared

MESSAGES = {
    "value": "offers something of value in public ({found}); keep that for the private conversation",
    "review_change": "asks the reviewer to change or remove their review ({found})",
    "blame": "argues, blames or makes excuses ({found}); a public reply only acknowledges and invites",
    "facts": "gives details of the case ({found}); keep them for the private conversation",
    "other_request": "asks the reviewer for something other than getting in touch ({found})",
    "off_topic": "says something other than an acknowledgement and an invitation ({found})",
    "promise": "promises something a reply may not promise ({found}); a reply may promise to talk, listen, call back, "
               "look into it, learn from it or welcome the reviewer back",
    "channels": "contains contact details other than the configured channels ({found})",
}
OWN_WORDS = 1  # words of its own a clause doing an act may use: "sorry about the draught", not the case
_LEET = str.maketrans("0134578@$", "oieastbas")


@dataclass
class ClauseJudgement:
    language: str | None = None
    act: str | None = None
    acts: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name -> "reviewer" | "writer"
    rating: str | None = None  # a word that names the rating ("stars"), judged with its sentence
    unknown: tuple[str, ...] = ()  # the dictionary forms of the words the lexicon does not know
    rating_given: bool = False  # the rating is named with its number ("three stars")
    wishes: bool = False  # the clause promises, wishes or asks something


@dataclass(frozen=True)
class Place:
    """What the judge needs to know of a word beyond its folded text."""

    capitalised: bool
    shown: str  # as written, for a refusal that quotes it
    hyphen_before: bool = False  # "Mary-Jane": one name in two words
    starts_sentence: bool = False
    abbreviation: bool = False  # "GM", "PS": short and all capitals


def choose_language(tokens: Sequence[str], lexicons: Sequence[Lexicon], preferred: str | None,
                    capitalised: Sequence[bool] = ()) -> tuple[Lexicon, float, int]:
    """The lexicon that recognises most of the words, the share of words it recognises, and
    how many words were counted. A capitalised word no lexicon knows is a name, not counted."""
    flags = list(capitalised) or [False] * len(tokens)
    if len(tokens) == 1 and flags[0]:
        return _preferred(lexicons, preferred), 1.0, 0  # "Ella" alone: a name, in the reply's language
    counted = [t for t, cap in zip(tokens, flags) if t not in PLACEHOLDERS and not t.isdigit()
               and (not cap or any(lex.recognises(t) for lex in lexicons))]
    if not counted:
        return _preferred(lexicons, preferred), 1.0, 0
    scored = sorted(lexicons, key=lambda lex: (-sum(lex.recognises(t) for t in counted), lex.code != preferred))
    best = scored[0]
    return best, sum(best.recognises(t) for t in counted) / len(counted), len(counted)


def _choose_by_lemma(places: Sequence[Place], lexicons: Sequence[Lexicon], preferred: str | None,
                     capitalised: Sequence[bool]) -> tuple[Lexicon, float, int]:
    """choose_language once more, each word also in its dictionary form in each language:
    "aquí seguiremos esperándole" is Spanish although its verbs are inflected. Only for a
    clause no lexicon recognised as written, so the cost stays with the rare case."""
    best = None
    for lex in lexicons:
        forms = [dictionaries.lemma(p.shown, lex.code) for p in places]
        found = choose_language([f if lex.recognises(f) else p.shown.casefold() for f, p in zip(forms, places)],
                                [lex], lex.code, capitalised)
        if best is None or (found[1], found[0].code == preferred) > (best[1], best[0].code == preferred):
            best = found
    return best


def _preferred(lexicons: Sequence[Lexicon], preferred: str | None) -> Lexicon:
    return next((lex for lex in lexicons if lex.code == preferred), lexicons[0])


def judge(clause: Clause, places: Sequence[Place], lexicons: Sequence[Lexicon], *,
          preferred: str | None) -> ClauseJudgement:
    result = ClauseJudgement()
    undone = undisguised(clause.tokens, lexicons, clause.gaps)
    capitalised = [p.capitalised for p in places] if len(undone) == len(places) else [False] * len(undone)
    lexicon, share, size = choose_language(undone, lexicons, preferred, capitalised)
    if size >= 2 and share < 0.5 and len(places) == len(undone):
        lexicon, share, size = _choose_by_lemma(places, lexicons, preferred, capitalised)
    result.language = lexicon.code
    if size >= 2 and share < 0.5:
        result.language = None
        result.problems.append("is in a language the guard cannot check; write it in "
                               + ", ".join(lex.code for lex in lexicons))
        return result
    # a word is known in its own form or in its dictionary form ("retenons": "retenir")
    lemmas = ([dictionaries.lemma(p.shown, lexicon.code) for p in places] if len(places) == len(clause.words)
              else clause.tokens)
    known = [lexicon.knows(w.text) or lexicon.knows(lemmas[i]) or _counts_stars(clause.tokens, i, lexicon)
             for i, w in enumerate(clause.words)]
    names = _names(clause.words, places, lexicons, lexicon, result, known)
    _forbidden(clause.tokens, undone, lexicon, lexicons, result, {clause.tokens[i] for i in names})
    tokens = [w.text for i, w in enumerate(clause.words) if i not in names]
    counted = [t for t in tokens if t not in PLACEHOLDERS]
    if any(t.isdigit() for t in counted):
        result.problems.append("gives details of the case (a number); keep them for the private conversation")
    exempt = [(a, b) for a, b, _ in lexicon.exempt.find(tokens)]  # "Tausend Dank" counts nothing
    quantities = [t for i, t in enumerate(tokens) if t in lexicon.numbers and not _counts_stars(tokens, i, lexicon)
                  and not any(a <= i < b for a, b in exempt)]
    if quantities:
        result.problems.append(f"gives details of the case ({quantities[0]!r}); keep them for the private conversation")
    cued = {act: found for act in ACTS if (found := lexicon.cues[act].first(tokens))}
    result.acts = tuple(cued)
    if "zzcontactzz" in tokens:
        result.acts += ("channel",)  # it gives the configured channel: it points the reader there
    if tokens and all(t in lexicon.titles for t in tokens):
        result.acts = ("greet",)  # "Madame, Monsieur," greets
    result.act = result.acts[0] if result.acts else None
    _rating(tokens, lexicon, result, [found[0] for act, found in cued.items() if act in ACKNOWLEDGING])
    _promise(undone if len(undone) != len(clause.tokens) else tokens, lexicon, result)  # "garant ieren" promises too
    unknown = sorted({w.text for i, w in enumerate(clause.words) if i not in names and not known[i]
                      and w.text not in PLACEHOLDERS}, key=counted.index)
    result.unknown = tuple(dict.fromkeys(lemmas[i] for i, w in enumerate(clause.words)
                                         if w.text in unknown and not lexicon.recognises(w.text)))
    if not result.problems and len(unknown) > OWN_WORDS and set(result.acts) - {"greet", "sign_off"}:
        result.problems.append("gives details of the case (" + ", ".join(repr(w) for w in unknown[:4])
                               + "); an apology or a thank-you may name the kind of problem in a word or two")
    if not result.problems and unknown and not set(result.acts) - {"greet", "sign_off"}:
        # a clause that does an act of its own may add a word of its own; one that does
        # none ("and the chef trained in Paris") must keep to the lexicon's
        result.problems.append(
            "is none of the things a public reply may do (greet, thank, apologise, say it is taken seriously, "
            "invite contact, say who will answer, hope to welcome back, sign off): "
            + ", ".join(repr(word) for word in unknown[:4]))
    return result


def _names(words: Sequence[Word], places: Sequence[Place], lexicons: Sequence[Lexicon], lexicon: Lexicon,
           result: ClauseJudgement, known: Sequence[bool]) -> set[int]:
    """Indexes of the words that are names; a name out of its place is a problem."""
    tokens = [w.text for w in words]
    # unknown to the clause's own language: "Ella" in an English clause is a name, not "she"
    unknown = [not known[i] and not lexicon.refuses_word(t) and t not in lexicon.numbers
               and not t.isdigit() for i, t in enumerate(tokens)]
    titles = shared().titles
    candidates = {i for i, place in enumerate(places) if place.capitalised and unknown[i] and tokens[i] not in titles
                  and not place.abbreviation}
    if lexicon.capitalised_nouns:
        candidates = _not_nouns(candidates, tokens, places, lexicon)
    if 0 in candidates and places[0].starts_sentence and len(tokens) > 1 and 1 not in candidates:
        candidates.discard(0)  # "Sounds like ...": a sentence's capital, not a name
    greeted = lexicon.cues["greet"].first(tokens)
    thanked = lexicon.cues["thank"].first(tokens)
    if (not greeted and thanked and thanked[0] == 0 and thanked[1] < len(tokens) and thanked[1] in candidates
            and thanked[1] == len(tokens) - 1):
        greeted = thanked  # "Merci Max", "Thanks Tom": a thank-you's name is the reader's
    if greeted and greeted[1] < len(tokens) and unknown[greeted[1]]:
        candidates.add(greeted[1])  # "hi tom": a greeting's name, whatever its case
    if not candidates:
        return set()
    runs = _runs(sorted(candidates))
    signed = lexicon.signed.first(tokens)
    for run in runs:
        first, last = run[0], run[-1]
        if first > 0 and tokens[first - 1] in lexicon.titles:  # "Mr Pereira", "M. Dupont", "Frau Berg"
            named = " ".join(places[i].shown for i in [first - 1, *run])
            result.problems.append(f"uses a full name or a surname ({named!r}); a first name is all a public reply may use")
            continue
        if greeted and first == greeted[1]:
            role = "reviewer"
        elif signed and first == signed[1]:
            role = "writer"
        elif _signature(tokens, run, lexicon):
            role = "writer" if first > 0 or last < len(tokens) - 1 else "reviewer or writer"
        else:
            shown = " ".join(places[i].shown for i in run)
            result.problems.append(f"names someone ({shown!r}); a reply may greet the reviewer by first name and be "
                                   "signed by its writer, no one else")
            continue
        if len(run) - sum(places[i].hyphen_before for i in run[1:]) > 1:
            named = " ".join(places[i].shown for i in run)
            result.problems.append(f"uses a full name or a surname ({named!r}); "
                                   "a first name is all a public reply may use")
        result.names[words[first].text] = role
    return candidates


def _counts_stars(tokens: Sequence[str], index: int, lexicon: Lexicon) -> bool:
    """Whether tokens[index] is a number naming the stars given ("drei Sterne"), not a quantity of the case."""
    return (tokens[index] in lexicon.numbers and index + 1 < len(tokens)
            and tokens[index + 1] in lexicon.rating_words)


def _rating(tokens: Sequence[str], lexicon: Lexicon, result: ClauseJudgement, acknowledged: Sequence[int]) -> None:
    """Note a rating the clause names without having thanked or apologised for it first
    ("for the stars" after a thank-you is thanked for; before it, not), for its sentence to judge."""
    result.wishes = bool(lexicon.promise_markers.first(tokens) or lexicon.request_markers.first(tokens))
    rated = next((i for i, t in enumerate(tokens) if t in lexicon.rating_words), None)
    if rated is not None and not any(start < rated for start in acknowledged):
        result.rating = tokens[rated]
        result.rating_given = rated > 0 and _counts_stars(tokens, rated - 1, lexicon)  # "three stars": the stars given


def _not_nouns(candidates: set[int], tokens: Sequence[str], places: Sequence[Place], lexicon: Lexicon) -> set[int]:
    """In a language that capitalises its nouns ("der Grund"), a capitalised word its
    dictionary knows is a noun, unless it is a first name, follows a title ("Frau Berg")
    or stands beside a name ("Thomas Müller")."""
    people = {i for i in candidates if dictionaries.is_first_name(places[i].shown)
              or not dictionaries.is_word(places[i].shown, lexicon.code)
              or (i > 0 and tokens[i - 1] in lexicon.titles)}
    beside = {i for i in candidates if i - 1 in people or i + 1 in people}
    return people | beside


def _signature(tokens: Sequence[str], run: list[int], lexicon: Lexicon) -> bool:
    """A name alone ("— Maria", ", Ana,") or with a role or a sign-off ("Maria, manager",
    "Best, Tom"): nothing else may stand beside a name."""
    rest = [t for i, t in enumerate(tokens) if i not in run]
    return not rest or (len(rest) <= 3 and bool(lexicon.cues["sign_off"].first(rest))
                        and all(lexicon.knows(t) for t in rest))


def _runs(indexes: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _forbidden(tokens: list[str], undone: list[str], lexicon: Lexicon, lexicons: Sequence[Lexicon],
               result: ClauseJudgement, names: set[str]) -> None:
    """Refused words of the clause's language, in every reading; those of another language
    where a word is foreign to the clause's (but a name is a name: "Ella" is not "she")."""
    found: dict[str, list[str]] = {}
    for reading in (tokens, undone) if undone != tokens else (tokens,):
        exempt = [(a, b) for a, b, _ in lexicon.exempt.find(reading)]
        for category, phrases in lexicon.forbidden.items():
            for start, end, _ in phrases.find(reading):
                if not any(a <= start and end <= b for a, b in exempt):
                    shown = repr(" ".join(reading[start:end])) + (", written in disguise" if reading is undone else "")
                    if not any(shown.startswith(f.split(",")[0]) for f in found.get(category, [])):
                        found.setdefault(category, []).append(shown)
    for other in lexicons:  # a word of another language, in a clause of this one
        if other is lexicon:
            continue
        foreign = [t for t in undone if not lexicon.knows(t) and t not in names]
        for category, phrases in other.forbidden.items():
            hit = next((f for f in foreign if phrases.has_word(f)), None)
            if hit and category not in found and not other.knows(hit):
                found[category] = [repr(hit)]
    for category, shown in found.items():
        _report(result, category, ", ".join(shown[:3]))


def _whole_word(lexicon: Lexicon, word: str) -> bool:
    """A word of the lexicon, or a form of one of its longer stems ("exaggerat" + "ed")."""
    if word in lexicon.plain_words or word in lexicon.refused_words or word in lexicon.numbers:
        return True
    found = lexicon.long_stem_pattern.match(word) if lexicon.long_stem_pattern else None
    return found is not None and len(word) - found.end() <= 4


def _report(result: ClauseJudgement, category: str, found: str) -> None:
    result.problems.append(MESSAGES.get(category, category + " ({found})").format(found=found))


def undisguised(tokens: Sequence[str], lexicons: Sequence[Lexicon], gaps: Sequence[str] = ()) -> list[str]:
    """The words as a disguise means them: letters spelled out one by one joined ("f r e e"),
    digits read as letters ("r3fund"), and pieces of a word cut by a space, a hyphen or a
    dot put back together ("re-fund", "ne.ver") where the whole is a word the guard knows."""
    out: list[str] = []
    index = 0
    while index < len(tokens):
        run = index
        while run < len(tokens) and len(tokens[run]) == 1 and tokens[run].isalpha():
            run += 1
        if run - index >= 3:
            spelled = "".join(tokens[index:run])
            if spelled[0] in "ai" and not any(lex.recognises(spelled) for lex in lexicons):
                out.append(spelled[0])  # "a f r e e dessert": the article, then the word
                spelled = spelled[1:]
            out.append(spelled)
            index = run
            continue
        token = tokens[index]
        if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
            token = token.translate(_LEET)
        joined = _rejoin(tokens, index, lexicons, gaps)
        if joined:
            out.append(joined[0])
            index += joined[1]
            continue
        out.append(token)
        index += 1
    return out


def _rejoin(tokens: Sequence[str], index: int, lexicons: Sequence[Lexicon],
            gaps: Sequence[str]) -> tuple[str, int] | None:
    """The word that tokens[index:index + n] spell together (n = 2 or 3): pieces cut by a
    hyphen or a dot, or cut by a space where a piece is no word at all ("re fund")."""
    for size in (2, 3):
        pieces = tokens[index:index + size]
        if len(pieces) < size or any(p in PLACEHOLDERS for p in pieces):
            continue
        between = [gaps[i].strip(" ") if i < len(gaps) else " " for i in range(index + 1, index + size)]
        cut = all(is_cut(gap) for gap in between)
        if not cut and any(len(p) == 1 for p in pieces):
            continue  # letters spelled out are read as a run above, not two by two ("you r e v i s e")
        whole = "".join(pieces).translate(_LEET)
        if (not cut and any(whole in lex.refused_words for lex in lexicons)
                and any(not _word_anywhere(p, lexicons) for p in pieces)):
            return whole, size  # "what sapp" is WhatsApp; "par ce que" stays three words
        if not cut and not (any(not _word_anywhere(p, lexicons) for p in pieces)
                            and not any(len(p) >= 4 and _word_anywhere(p, lexicons) for p in pieces)):
            continue
        if any(_whole_word(lex, whole) for lex in lexicons):
            return whole, size
    return None


def _word_anywhere(token: str, lexicons: Sequence[Lexicon]) -> bool:
    return any(lex.recognises(token) for lex in lexicons)


def needs_contact_request(tokens: Sequence[str], lexicon: Lexicon) -> tuple[bool, bool]:
    """(asks something, asks only to get in touch) for the request rule."""
    asked = lexicon.request_markers.first(tokens)
    if not asked:
        return False, True
    exempt = [(a, b) for a, b, _ in lexicon.exempt.find(tokens)]
    if any(a <= asked[0] and asked[1] <= b for a, b in exempt):
        return False, True
    return True, bool(lexicon.request_allowed.first(tokens))


def _promise(tokens: Sequence[str], lexicon: Lexicon, result: ClauseJudgement) -> None:
    """A promise of ours must promise an action of the closed list, and that action must
    follow its marker closely (the lexicon's reach: German puts it at the clause's end),
    or "we will have panels fitted before you come back" would promise a welcome."""
    exempt = [(a, b) for a, b, _ in lexicon.exempt.find(tokens)]
    markers = [(start, end) for start, end, _ in lexicon.promise_markers.find(tokens)
               if not any(a <= start and end <= b for a, b in exempt)]
    for index, (start, end) in enumerate(markers):
        if not set(tokens[max(0, start - 3):end]) & lexicon.speakers:
            continue  # not ours: "could you", "if you would like to", "it will"
        for _, chained in [(start, end), *markers[index + 1:]]:  # "we will be happy to talk"
            action = lexicon.promise_actions.first(tokens[chained:])
            if action and action[0] <= lexicon.promise_reach:
                return
            if not any(chained <= s <= chained + lexicon.promise_reach for s, _ in markers):
                break
        result.problems.append(f"promises something a reply may not promise (only: {lexicon.promise_summary})")
        return
