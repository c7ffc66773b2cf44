"""The policy guard: may this text be posted publicly as our reply to a review?

A public reply only acknowledges the reviewer and invites them to contact management
through the configured channel. `check_reply` is the one function that decides; drafts
are checked when generated, on every edit and again at approval, and a failing text
never becomes approved. It reports every problem it finds, each in words an owner can
act on. The rules:

1. not empty; no template syntax left over ({{ }}, {% %}, {# #});
2. within the platform's length limit, counted as the platform counts (bytes or characters);
3. invites the reviewer to contact us, and names the configured contact;
4. acknowledges the reviewer or apologises;
5. no refund, discount, free item, voucher or other compensation;
6. no request to change, update or remove the review or rating;
7. no blame, arguing or excuses ("but", "however", "your fault", "our records show", ...);
8. no facts about the case: numbers, amounts, dates, order or booking references, the
   reviewer's full name;
9. no email address, phone number, web address, messenger or handle other than the
   configured contact;
10. every sentence does one of the allowed jobs (greet, thank or apologise, invite,
    sign off); anything else is quoted back as saying more than a reply should.

Matching is done on a canonical copy of the text (`fold`: Unicode NFKC, case-folded,
invisible format characters and accents removed, any digit as 0-9, look-alike letters
from other scripts read as the Latin letter they imitate, per Unicode's confusables
table) so full-width, mathematical, Cyrillic or Greek letters, zero-width characters and
case do not hide a word. The word rules (5 to 8, and other channels under 9) also read
the text as a disguise would have it read (`_undisguised`): letters spaced or dotted out
("r e f u n d"), punctuation inside a word ("re-fund", "ref.und") and leetspeak
("r3fund") put back together; a word found only that way is reported as disguised.
Issue 6's adversarial tests (tests/replies/test_policy_adversarial.py) hold these to account.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from connectors.base import ReplyLimit
from service.config import Contact

DEFAULT_LIMIT = ReplyLimit(5000)


@dataclass(frozen=True)
class PolicyResult:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def fold(text: str) -> str:
    """The canonical text every rule reads (see the module docstring)."""
    return "".join(_fold_char(ch) for ch in unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    category = unicodedata.category(ch)
    if category in ("Cf", "Mn", "Me"):  # zero-width, bidi controls, soft hyphen; stray combining marks
        return ""
    if category == "Zs":
        return " "
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    out = []
    for c in unicodedata.normalize("NFD", ch.casefold()):
        if unicodedata.category(c) in ("Mn", "Me"):
            continue  # accents: "réfund" is "refund"
        out.append(c if c.isascii() else _latin_look_alike(c))
    return "".join(out)


def _latin_look_alike(ch: str) -> str:
    """The ASCII letter or digit `ch` can pass for (Cyrillic "е", Greek "ο", ...), else `ch`."""
    # imported here: its table takes 40 ms to load, and only a reply with a non-ASCII
    # letter in it ever needs it (not a poll that drafts nothing)
    from confusable_homoglyphs import confusables

    for found in confusables.is_confusable(ch, greedy=True, preferred_aliases=[]) or []:
        for glyph in found["homoglyphs"]:
            if glyph["c"].isascii() and glyph["c"].isalnum():
                return glyph["c"].lower()
    return ch


_LETTER = r"[^\W\d_]"
# Three or more single letters with separators between them: "r e f u n d", "r.e.f.u.n.d".
_SPELLED_OUT = re.compile(rf"(?<![^\W_]){_LETTER}(?:[\s.\-_*·•/|,'’]+{_LETTER}(?![^\W_])){{2,}}")
# Punctuation inside a word: "re-fund", "ref.und", "re*fund".
_INNER_PUNCTUATION = re.compile(rf"(?<={_LETTER})[.\-_*·•/|]+(?={_LETTER})")
# A word written with digits for letters: "r3fund", "v0uch3r", "fr33".
_LEET_WORD = re.compile(r"\b(?=[a-z0-9]*[a-z])(?=[a-z0-9]*[0-9])[a-z0-9]+\b")
_LEET = str.maketrans("0134578", "oieastb")


def _undisguised(folded: str) -> tuple[str, ...]:
    """`folded` read as a disguise means it: spaced-out letters, inner punctuation, leetspeak.
    Two readings, as a spelled-out word may follow "a" or "i" ("a f r e e dessert")."""
    readings = []
    for article in (False, True):
        text = _SPELLED_OUT.sub(lambda m: _join_letters(m.group(), article), folded)
        text = _INNER_PUNCTUATION.sub("", text)
        readings.append(_LEET_WORD.sub(lambda m: m.group().translate(_LEET), text))
    return tuple(readings)


def _join_letters(spelled: str, article: bool) -> str:
    if article and spelled[0] in "ai" and spelled[1].isspace():
        return spelled[0] + " " + re.sub(r"[\W_]", "", spelled[1:])
    return re.sub(r"[\W_]", "", spelled)


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])")


_TEMPLATE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")

_EMAIL = re.compile(r"[\w.+-]+ ?@ ?[\w-]+(?: ?\. ?[\w-]+)+")
# A dot in a web address, also as people hide it: "example dot com", "example[.]com".
_DOT = r"(?:\.|\s*[(\[{<](?:dot|\.)[)\]}>]\s*|\s+dot\s+)"
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    rf"|(?<![@\w.])[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)*{_DOT}"
    r"(?:com|net|org|io|co|uk|de|fr|es|it|nl|eu|info|biz|shop|app|me|us|ca|au|ly|gl|gg|link|site|online|xyz|store"
    r"|page|ie|ch|nz|tv|cc|club|top)(?:/[^\s]*)?(?![\w])"
    r"|(?<![@\w.])[a-z0-9-]+\.[a-z]{2,}/[^\s]+"  # any short link with a path: "bit.ly/3xyz"
)
# Channels other than ours: messengers, social networks, handles.
_CHANNEL = re.compile(
    r"(?<![\w])(?:whats ?app|instagram|insta|facebook|fb|messenger|telegram|twitter|tiktok|snapchat|linkedin|wechat"
    r"|viber|dms?|direct messages?|private messages?)(?![\w])|(?<![\w.@])@[a-z0-9_][a-z0-9_.]+"
)
_PHONE = re.compile(r"(?<![\w])\+?\d[\d ().-]{5,}\d(?![\w])")
_DIGIT = re.compile(r"\d")

_INVITE = _words(
    r"contact(?:ing)?", r"reach(?:ing)? (?:out|us|me)", r"get(?:ting)? in touch", r"write to", r"e-?mail(?:ing)?",
    r"call(?:ing)?", r"ring", r"phone", r"message", r"speak", r"talk", r"hear from you", r"let us know", r"get back to us",
    r"drop us", r"send us",
)
_ACKNOWLEDGE = _words(
    r"thank(?:s| you)?", r"sorry", r"apologi[sz]e\w*", r"apolog(?:y|ies)", r"regret\w*", r"appreciate\w*",
    r"feedback", r"to hear", r"hearing about", r"understand\w*", r"disappoint\w*", r"concerns?", r"experience",
    r"sharing", r"took the time", r"taking the time",
)
_GREETING = re.compile(r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\b")
_SIGN_OFF = _words(
    r"regards", r"sincerely", r"best(?: wishes)?", r"warm(?:ly| wishes)", r"cheers", r"yours", r"team",
    r"management", r"manager", r"owner", r"owners", r"thanks again",
)

_COMPENSATION = _words(
    r"refund\w*", r"reimburs\w*", r"money back", r"repay\w*", r"compensat\w*", r"discount\w*", r"vouchers?",
    r"coupons?", r"(?<!feel )free(?: of charge)?", r"complimentary", r"on the house", r"on us",
    r"credit(?:s|ed)?", r"rebates?", r"cash ?back", r"promo(?:tion(?:al)?)? codes?", r"codes?", r"waive\w*",
    r"comp(?:ed|ing)?", r"make it up to you", r"\d+ ?% ?off", r"per ?cent off", r"half price", r"replacement",
    r"exchange", r"partial refund", r"store credit", r"financ\w*", r"pay(?:ing)? (?:you )?back",
    r"cover(?:s|ed|ing)? (?:\w+ ){0,2}(?:costs?|bill|expenses?|tab|price)", r"gesture", r"goodwill",
    r"send(?:ing)? you (?:\w+ ){0,2}(?:something|gift|treat|token)", r"gift\w*", r"tokens? of",
)
_MONEY = re.compile(r"[$€£¥₹]|\b(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks|quid|cents?)\b")
_REVIEW_CHANGE = re.compile(
    r"(?<![\w])(?:remov\w*|delet\w*|take\s+down|taking\s+down|chang\w*|updat\w*|edit\w*|revis\w*|reconsider\w*|amend\w*|"
    r"rais\w*|increas\w*|bump\w*|withdraw\w*|retract\w*|modify\w*|adjust\w*|rethink\w*|revisit\w*|reword\w*|"
    r"rewrit\w*|pull\w*)"
    r"\s+(?:\w+\s+){0,3}(?:reviews?|ratings?|stars?|post|posts|comments?|score|feedback|words"
    r"|what you (?:wrote|posted|said))(?![\w])"
    r"|(?<![\w])(?:take|takes|taking|took|taken|pull|pulling|bring|bringing)\s+(?:\w+\s+){0,3}down(?![\w])"
    r"|(?<![\w])(?:more|higher|better|five|5|full)\s+(?:\w+\s+)?(?:stars?|ratings?)(?![\w])"
)
_ARGUING = _words(
    r"but", r"however", r"although", r"though", r"unfortunately", r"because", r"due to", r"actually", r"in fact",
    r"to be fair", r"to be honest", r"not true", r"untrue", r"false", r"lie", r"lies", r"lying", r"liar", r"fake",
    r"your fault", r"you should(?: have)?", r"you shouldn't", r"you didn't", r"you did not", r"you failed",
    r"you were", r"you refused", r"you chose", r"our records", r"records show", r"our policy", r"policy",
    r"as stated", r"clearly", r"obviously", r"understaffed", r"short[- ]?staffed", r"short of staff",
    r"staff shortages?", r"you never", r"incorrect\w*", r"inaccura\w*", r"exaggerat\w*", r"overwhelm\w*",
    r"mislead\w*", r"not (?:accurate|correct|the case)", r"busy", r"rush(?:ed)?",
    r"new staff", r"disagree\w*", r"misunderst\w*", r"never happened", r"no record", r"other (?:customers|guests)",
    r"everyone else", r"most (?:customers|guests)", r"claim\w*", r"allegation\w*", r"alleged\w*",
    r"supposedly", r"if you had", r"rude to",
)
_CASE_FACTS = _words(
    r"order (?:number|no|#)", r"your order", r"booking", r"reservation", r"invoice", r"receipt", r"ticket",
    r"reference", r"case (?:number|id)", r"account number", r"transaction", r"yesterday", r"last night",
    r"last week", r"that (?:day|night|evening)", r"(?:on )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    r"january|february|march|april|june|july|august|september|october|november|december", r"table",
    r"waiter|waitress|server|chef|cook|driver|staff member|employee|colleague",
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def check_reply(
    text: str,
    *,
    contact: Contact,
    business_name: str,
    limit: ReplyLimit | None = None,
) -> PolicyResult:
    """Every way `text` breaks the public-reply policy; no problems means it may go public."""
    problems: list[str] = []
    if not text.strip():
        return PolicyResult(["the reply is empty"])
    if _TEMPLATE.search(text):
        problems.append("contains template syntax ({{ }}, {% %} or {# #}) left over from a template")
    limit = limit or DEFAULT_LIMIT
    size = limit.measure(text)
    if size > limit.limit:
        problems.append(f"is {size} {limit.unit} long; the platform allows {limit.limit}")

    folded = fold(text)
    contact_folded = fold(contact.value)
    # Judge the rest of the text with the contact and business name blanked out, so their
    # own digits, dots and words do not count against the reply.
    rest = folded.replace(contact_folded, " CONTACT ")
    name_folded = fold(business_name)
    if name_folded:
        rest = rest.replace(name_folded, " BUSINESS ")

    # The word rules read the text as written and as a disguise means it ("r e f u n d").
    views = (rest, *_undisguised(rest))
    problems += _contact_problems(folded, rest, contact, views)
    if not _ACKNOWLEDGE.search(rest):
        problems.append("does not acknowledge the reviewer or apologise")
    found = _first(_COMPENSATION, views) or _first(_MONEY, views)
    if found:
        problems.append(f"offers or discusses compensation in public ({found}); keep that for the private conversation")
    found = _first(_REVIEW_CHANGE, views)
    if found:
        problems.append(f"asks the reviewer to change or remove their review ({found})")
    found = _first(_ARGUING, views)
    if found:
        problems.append(f"argues, blames or makes excuses ({found}); a public reply only acknowledges and invites")
    found = _first(_CASE_FACTS, views) or _first(_DIGIT, (_strip_contacts(rest),))
    if found:
        problems.append(f"mentions details of the case ({found}); keep them for the private conversation")
    found = _full_name(text, business_name)
    if found:
        problems.append(f"names the reviewer by more than a first name ({found!r}); that is personal data")
    problems += _off_topic_sentences(rest)
    return PolicyResult(problems)


def _first(pattern: re.Pattern[str], views: tuple[str, ...]) -> str | None:
    """The first match in the text as written, else in its undisguised reading, quoted for a problem."""
    for index, view in enumerate(views):
        match = pattern.search(view)
        if match:
            return repr(match.group(0).strip()) + (", written in disguise" if index else "")
    return None


# A greeting followed by two or more capitalised words: "Dear Ana Pereira,", "Hi Mrs Pereira!"
_GREETING_NAMES = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\s+"
    r"((?:[^\W\d_][\w'’.-]*)(?:\s+[^\W\d_][\w'’.-]*){1,3})\s*(?:[,!:;]|$)",
    re.IGNORECASE | re.MULTILINE,
)


def _full_name(text: str, business_name: str) -> str | None:
    """The reviewer's full name or surname in the greeting; a first name is all a reply may use."""
    match = _GREETING_NAMES.search(unicodedata.normalize("NFKC", text))
    if not match:
        return None
    names = match.group(1)
    words = names.split()
    if (
        all(word[0].isupper() for word in words)
        and fold(business_name) not in fold(names)
        and not _NOT_A_NAME.intersection(fold(word).strip(".'’") for word in words)
    ):
        return names
    return None


# Capitalised greetings that name no one: "Dear Valued Guest", "Hello All Food Lovers".
_NOT_A_NAME = frozenset(
    "valued dear guest guests customer customers visitor visitors diner diners friend friends patron patrons "
    "reviewer team all everyone there food lover lovers fellow foodie foodies traveller travellers traveler "
    "travelers client clients".split()
)


def _strip_contacts(text: str) -> str:
    for pattern in (_EMAIL, _URL, _PHONE):
        text = pattern.sub(" ", text)
    return text


def _contact_problems(folded: str, rest: str, contact: Contact, views: tuple[str, ...]) -> list[str]:
    problems = []
    if contact.kind == "phone":
        wanted = re.sub(r"\D", "", contact.value)
        named = any(re.sub(r"\D", "", m) == wanted for m in _PHONE.findall(folded))
    else:
        named = fold(contact.value) in folded
    if not named:
        problems.append(f"does not give the contact channel {contact.value}")
    if not _INVITE.search(rest):
        problems.append("does not invite the reviewer to contact management")
    others = [m for p in (_EMAIL, _URL, _PHONE) for m in p.findall(rest)]
    if contact.kind == "phone":
        wanted = re.sub(r"\D", "", contact.value)
        others = [m for m in others if re.sub(r"\D", "", m) != wanted]
    if others:
        problems.append(f"contains contact details other than {contact.value} ({others[0].strip()!r})")
    elif found := _first(_CHANNEL, views):
        problems.append(f"contains contact details other than {contact.value} ({found})")
    return problems


def _off_topic_sentences(rest: str) -> list[str]:
    """Each sentence must greet, acknowledge, invite or sign off; quote the first that doesn't."""
    sentences = [s.strip() for s in _SENTENCE.findall(rest) if s.strip(" \t.!?,;:-—–")]
    for index, sentence in enumerate(sentences):
        if (
            _GREETING.match(sentence)
            or _ACKNOWLEDGE.search(sentence)
            or _INVITE.search(sentence)
            or "CONTACT" in sentence
            or "BUSINESS" in sentence
            or _SIGN_OFF.search(sentence)
            or (index == len(sentences) - 1 and len(sentence.split()) <= 4)  # a signature: "— Maria"
        ):
            continue
        quoted = sentence if len(sentence) <= 80 else sentence[:77] + "..."
        return [f"says something other than an acknowledgement and an invitation: {quoted!r}"]
    return []
