"""The policy guard: may this text be posted publicly as our reply to a review?

A public reply only acknowledges the reviewer and invites them to contact management
through a configured channel. `check_reply` is the one function that decides: drafts
are checked when made, on every edit, at approval and before posting, in the CLI and
the web editor alike, and a failing text never becomes approved.

How it reads a reply:
1. as a person sees it (normalise.py): look-alike, full-width, small-capital and
   invisible characters, right-to-left overrides, HTML entities, markdown links;
2. the business's name and every contact in it (contacts.py): each must be exactly
   a channel configured for the review's source;
3. clause by clause (clauses.py), each in its own language: a clause does one of the
   acts a reply may do (with at most a word of its own) or keeps to the words the
   language's lexicon allows (judge.py, lexicons/*.toml); a clause in a language
   without a lexicon is refused; the rating is named only to thank for it or regret it;
4. the whole: it gives a configured channel (which is the invitation), within the
   platform's length limit, with no template syntax left.

Each refusal names the clause it found in and the rule it breaks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from connectors.base import ReplyLimit
from service.config import Contact
from service.replies.guard import contacts, dictionaries, lexicon
from service.replies.guard.clauses import WORD, split
from service.replies.guard.judge import Place, choose_language, judge, needs_contact_request
from service.replies.guard.normalise import Reading, fold, read, replace_spans

DEFAULT_LIMIT = ReplyLimit(5000)
_TEMPLATE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_QUOTED = 80


@dataclass(frozen=True)
class ClauseVerdict:
    """One clause as the guard read it: where it stands in the text, and what is wrong."""

    start: int
    end: int
    text: str
    language: str | None
    act: str | None
    problems: tuple[str, ...]
    acts: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()  # words its language's lexicon does not know, in dictionary form

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class PolicyResult:
    problems: list[str] = field(default_factory=list)
    clauses: tuple[ClauseVerdict, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def check_reply(
    text: str,
    *,
    contact: Contact | None = None,
    channels: Sequence[Contact] = (),
    business_name: str,
    limit: ReplyLimit | None = None,
    language: str | None = None,
) -> PolicyResult:
    """Every way `text` breaks the public-reply rule; no problems means it may go public.
    `channels` (or one `contact`) are the channels configured for the review's source."""
    channels = tuple(channels) or ((contact,) if contact else ())
    if not text.strip():
        return PolicyResult(["the reply is empty"])
    problems: list[str] = []
    limit = limit or DEFAULT_LIMIT
    if (size := limit.measure(text)) > limit.limit:
        problems.append(f"is {size} {limit.unit} long; the platform allows {limit.limit}")
    if any(unicodedata.category(ch) in ("Cn", "Co", "Cs") for ch in text):
        problems.append("contains characters with no meaning in Unicode (unassigned or private-use), "
                        "which readers may see as anything")
    reading = read(text)
    if _TEMPLATE.search(reading.text):
        problems.append("contains template syntax ({{ }}, {% %} or {# #}) left over from a template")
    lexicons = lexicon.bundled()
    reading = _mark_business(reading, business_name)
    reading, named, other = _mark_contacts(reading, text, channels)
    reading = _expand_contractions(reading, lexicons)
    if language is None:  # a clause whose words several languages share reads as the reply's own language
        language = choose_language(WORD.findall(reading.text), lexicons, None)[0].code
    others = iter(f"contains contact details other than {_listing(channels)} ({found!r})" for found in other)
    judged = _judge_clauses(text, reading, lexicons, language, others)
    whole = _whole_reply(judged, named, channels, lexicons)
    problems += [f"{_quote(j.verdict.text)}: {problem}" for j in judged for problem in j.verdict.problems]
    return PolicyResult(problems + whole, tuple(j.verdict for j in judged))


def _mark_business(reading: Reading, business_name: str) -> Reading:
    """The business's name, whole or shortened to two or more of its words in a row
    ("Harbour Lane" for "Harbour Lane Bistro"), is the business, not a person."""
    words = fold(business_name).split()
    if len("".join(words)) < 2:
        return reading
    shortened = [" ".join(words[a:b]) for size in range(len(words), 1, -1) for a in range(len(words) - size + 1)
                 for b in [a + size]] or [words[0]]
    pattern = r"(?<![\w])(?:" + "|".join(re.escape(name) for name in shortened) + r")(?![\w])"
    spans = [(m.start(), m.end(), " zzbusinesszz ") for m in re.finditer(pattern, reading.text)]
    return replace_spans(reading, spans) if spans else reading


def _mark_contacts(reading: Reading, text: str, channels: Sequence[Contact]) -> tuple[Reading, int, list[str]]:
    found = contacts.find(reading.text, channels, lexicon.shared().digit_words)
    other, exact = [], []
    for item in found:
        start, end = reading.span(item.start, item.end)
        written = text[start:end].strip()
        # configured as read, and as written: "mаnager@..." with a Cyrillic "а" reads as
        # ours but mails someone else
        exact.append(item.configured and contacts.is_configured(item.kind, contacts.as_written(written), channels))
        if not exact[-1]:
            other.append(written)
    spans = [(f.start, f.end, " zzcontactzz " if ok else " zzotherzz ") for f, ok in zip(found, exact)]
    return replace_spans(reading, spans), sum(exact), other


def _expand_contractions(reading: Reading, lexicons) -> Reading:
    spans = []
    for lex in lexicons:
        for short, full in lex.contractions:
            lead = "" if short.startswith(("'", "n'")) else r"(?<![\w'])"  # "n't" ends a word ("didn't")
            spans += [(m.start(), m.end(), full) for m in re.finditer(lead + re.escape(short) + r"(?![\w])", reading.text)]
    return replace_spans(reading, spans) if spans else reading


@dataclass(frozen=True)
class _Judged:
    verdict: ClauseVerdict
    tokens: tuple[str, ...]
    sentence: int
    lone_name: str | None = None  # the clause is a name alone: a greeting's ("Thank you, Ana,") or a signature
    rating: str | None = None  # the word naming the rating, if the clause names it
    rating_given: bool = False  # named with its number: "three stars"
    wishes: bool = False  # the clause promises, wishes or asks something


def _judge_clauses(text: str, reading: Reading, lexicons, language: str | None, others) -> list[_Judged]:
    """Each clause's verdict; a contact that is not configured counts against the clause it stands in."""
    words = lexicon.shared()
    judged = []
    for clause in split(reading.text, words.joiners, words.titles, words.not_joining_after):
        opens = not judged or judged[-1].sentence != clause.sentence
        places = [_place(text, reading, w.start, w.end, reading.text[clause.words[i - 1].end:w.start] == "-" if i else False,
                         opens and i == 0) for i, w in enumerate(clause.words)]
        judgement = judge(clause, places, lexicons, preferred=language)
        start, end = reading.span(clause.start, clause.end)
        shown = text[start:end].strip(" \t\n,;:.!?-–—()")
        foreign = [next(others, "contains contact details other than the configured ones")
                   for token in clause.tokens if token == "zzotherzz"]
        verdict = ClauseVerdict(start, end, shown, judgement.language, judgement.act, (*foreign, *judgement.problems),
                                judgement.acts, judgement.unknown)
        lone = next((name for name, role in judgement.names.items() if role == "reviewer or writer"), None)
        judged.append(_Judged(verdict, tuple(clause.tokens), clause.sentence, lone, judgement.rating,
                              judgement.rating_given, judgement.wishes))
    return judged


def _place(text: str, reading: Reading, start: int, end: int, hyphen_before: bool, starts_sentence: bool) -> Place:
    first, last = reading.span(start, end)
    shown = text[first:last]
    return Place(capitalised=text[first].isupper(), shown=shown, hyphen_before=hyphen_before,
                 starts_sentence=starts_sentence, abbreviation=2 <= len(shown) <= 3 and shown.isupper())


def _whole_reply(judged: list[_Judged], named: int, channels: Sequence[Contact], lexicons) -> list[str]:
    """The rules about the reply as a whole; what they find in one clause is added to its verdict."""
    problems = []
    if not named:  # giving the channel is the invitation: "Any thoughts: hello@..." points the reader there
        problems.append(f"does not give the contact channel {_listing(channels)}")
    for index, item in enumerate(judged):
        lex = lexicon.for_language(item.verdict.language or "") or lexicons[0]
        asked, only_contact = needs_contact_request(item.tokens, lex)
        if asked and not only_contact and not _asks_to_get_in_touch(item, judged, lex):
            _add(judged, index, "asks the reviewer for something other than getting in touch")
    for index, item in enumerate(judged):
        if item.rating and not _thanked_or_regretted(index, judged):
            _add(judged, index, f"asks the reviewer to change or remove their review ({item.rating!r}: a reply may "
                                "only thank for the rating or be sorry about it)")
    named_people: list[str] = []
    for index, item in enumerate(judged):
        if item.lone_name and item.lone_name not in named_people and dictionaries.is_first_name(item.lone_name):
            named_people.append(item.lone_name)
            if len(named_people) > 2:  # the reader and the writer; a third is someone else
                _add(judged, index, f"names someone ({item.verdict.text!r}); a reply may name only the reviewer "
                                    "and its writer")
        if item.lone_name and not _addressed_or_signed(index, judged):
            _add(judged, index, f"names someone ({item.verdict.text!r}); a reply may greet the reviewer by first "
                                "name and be signed by its writer, no one else")
    return problems


def _thanked_or_regretted(index: int, judged: list[_Judged]) -> bool:
    """Whether the sentence that names the rating has thanked or apologised for it before
    ("thanks for stopping by and leaving a rating", "Thank you, Ana, for the rating"); a
    clause that names the rating before its own thank-you ("a nudge on the stars would
    warm our hearts") is not thanking for it."""
    sentence = judged[index].sentence
    acts = lexicon.ACKNOWLEDGING
    if any(set(j.verdict.acts) & acts for j in judged[:index] if j.sentence == sentence):
        return True
    # "Three stars, and thank you for it": the stars given, named and thanked for, in a
    # sentence that wishes nothing of them ("those two stars could become more" wishes)
    members = [j for j in judged if j.sentence == sentence]
    return (judged[index].rating_given and any(set(j.verdict.acts) & acts for j in members)
            and not any(j.wishes for j in members))


def _addressed_or_signed(index: int, judged: list[_Judged]) -> bool:
    """A name alone addresses the reader at the start of a sentence ("Ana, we are sorry"),
    after a greeting, a thank-you or an apology ("Thank you, Ana, for ..."), or signs the
    reply at its end; after anything else it names someone ("our head waiter, Almudena")."""
    item = judged[index]
    before = judged[index - 1] if index > 0 else None
    if before and before.sentence == item.sentence and before.tokens[-1] in lexicon.shared().roles:
        return False  # "ask for our manager, Almudena": the manager's name, not the reader's
    after = judged[index + 1] if index + 1 < len(judged) else None
    beyond = judged[index + 2] if index + 2 < len(judged) else None
    if after and after.sentence == item.sentence and (
            after.tokens[0] in lexicon.shared().relatives
            or (beyond and beyond.sentence == item.sentence  # an aside in mid-sentence, not a signature's role
                and set(beyond.tokens) - lexicon.PLACEHOLDERS
                and len(after.tokens) <= 3 and set(after.tokens) & lexicon.shared().people)):
        return False  # "Sinead, who looked after you, ..." / "Karim, notre chef, tient ...": someone described
    last_of_sentence = index == len(judged) - 1 or judged[index + 1].sentence != item.sentence
    if last_of_sentence or index == 0 or judged[index - 1].sentence != item.sentence:
        return True  # "Thanks, Leonie." / "Ana, we are sorry." / "— Tom"
    if before.verdict.acts:
        return True  # after an act of the reply, not after "our head waiter"
    # "Oh no, Dan, ...", "Right, Gaz, ...": a name set off by commas calls the reader,
    # unless what stands just before says whose it is ("nuestra jefa de sala, Almudena")
    return not set(before.tokens[-3:]) & lexicon.shared().people


def _add(judged: list[_Judged], index: int, problem: str) -> None:
    item = judged[index]
    judged[index] = replace(item, verdict=replace(item.verdict, problems=(*item.verdict.problems, problem)))


def _asks_to_get_in_touch(item: _Judged, judged: list[_Judged], lex) -> bool:
    """'Please, if you can, email us' / 'Call us, please': the request is elsewhere in its sentence."""
    return any(lex.request_allowed.first(j.tokens) for j in judged if j.sentence == item.sentence and j is not item)


def _listing(channels: Sequence[Contact]) -> str:
    return " or ".join(c.value for c in channels) or "(none configured)"


def _quote(clause: str) -> str:
    clause = " ".join(clause.split())
    return repr(clause if len(clause) <= _QUOTED else clause[: _QUOTED - 3] + "...")
