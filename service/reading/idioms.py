"""Review idioms that VADER reads backwards, said plainly before it reads the text.

Praise read as a complaint: "I can't recommend them enough", "could not be happier",
"zero complaints", "we would not hesitate to recommend". VADER sees a negation before a
positive word, or a count before a negative one, and scores the sentence negative (-0.3
to -0.45), and the complaint cues see "can't recommend". A complaint read as praise:
"could not be more disappointed" (VADER negates "disappointed": +0.42), "I would hesitate
to recommend them". And VADER negates the word two places after "no" even across the
punctuation that ends its clause ("No complaints, great food." reads -0.26: "great" is
negated), so a comma of its own is put after that punctuation to take the place.
"Pretty" before a word VADER scores, or a plain adjective, means "quite" ("pretty average",
"pretty bad"), not "pretty" (+2.2): "The food was pretty average." read +0.49. And
"anything but" before such a word means "not": VADER read the "but" of "anything but
clean" as a turn towards praise.

The sentiment pass (service/reading/sentiment.py) rewrites each idiom to what it means before
VADER or the cues read the text; what is stored and shown is the review as written.

Keep each entry a fixed phrase of everyday review English, with its twin that must not
change in tests/reading/test_sentiment.py ("I can't recommend them", "could not be happier").
"""

from __future__ import annotations

import re
from collections.abc import Container

_CANNOT = r"(?:can ?not|can'?t|could ?not|couldn'?t)"

# (words one of which the idiom holds, the idiom, what it means); the words are
# looked for first, as most texts hold none; matched without regard to case
_IDIOMS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # "can't recommend this place enough", "cannot thank the staff enough", "can't praise it highly enough"
    (("enough",), rf"\b{_CANNOT} (recommend|praise|thank)((?: \w+){{0,6}}?)(?: (?:highly|more))? enough\b", r"highly \1\2"),
    # "can't say enough good things about them"
    (("enough",), rf"\b{_CANNOT} say enough (good|great|nice|positive|kind|wonderful)\b", r"say many \1"),
    # "could not be happier", "couldn't have been more pleased"
    (("happier", "more"), rf"\b{_CANNOT} (?:be|have been) (happier|more (?:pleased|satisfied|impressed|delighted|happy|thrilled))\b",
     r"am \1"),
    # "would not hesitate to recommend", "won't hesitate to go back"
    (("hesitate",), r"\b(?:would ?n[o']t|would not|will not|won'?t) hesitate to (recommend|return|go back|come back|order|book|buy)\b",
     r"would gladly \1"),
    # "could not be more disappointed", "couldn't have been more upset", "could not be worse"
    (("more", "worse"), rf"\b{_CANNOT} (?:be|have been|get any) (worse|more (?:disappointed|disappointing|upset|annoyed|frustrated|unhappy|dissatisfied|disgusted|angry))\b",
     r"am very \1"),
    # "I haven't been this disappointed in years"
    (("this", "so"), r"\b(?:have|had)(?:n'?t| not) been (?:this|so|as) (disappointed|bored|annoyed|angry|frustrated|upset|unhappy)\b",
     r"am very \1"),
    # "I would hesitate to recommend them" (after "would not hesitate" above is rewritten)
    (("hesitate",), r"\b(?:(?:i )?would |i'?d )?hesitate to recommend\b", r"would not recommend"),
    # "no major issues", "no real problems": VADER's "no" reads -1.2 unless a word it knows follows
    (("no ",), r"\bno (?:major|real|big|serious|significant|other|more|further) (complaints?|problems?|issues?|troubles?)\b",
     r"no \1"),
    # "zero complaints", "0 issues"
    (("zero", "0 "), r"\b(?:zero|0) (complaints?|problems?|issues?|regrets?)\b", r"no \1"),
    # "there hasn't been any more problems", "haven't had any issues" (beyond VADER's three-word negation)
    (("problem", "issue"), r"\b(?:has|have|had)(?:n'?t| not) (?:been|had) (?:any|an?) (?:more |other |real |major )?(problems?|issues?)\b",
     r"had no \1"),
)
# adjectives of degree VADER has no score for, which "pretty" makes no prettier
_PLAIN = frozenset("average standard basic ordinary plain much mediocre slow quick fast small big expensive cheap "
                   "pricey long short loud noisy quiet empty busy cold warm salty greasy dry predictable".split())
# (the words, what they mean before a scored or plain adjective): "pretty bad", "anything but clean"
_BEFORE_ADJECTIVE = tuple((words, re.compile(rf"\b({words}) ([^\W\d_]+)", re.IGNORECASE), meaning)
                          for words, meaning in (("pretty", "quite"), ("anything but", "not")))
# "no" and its word, then the punctuation that ends the clause
_NO_SCOPE = re.compile(r"\b(no [^\W\d_]+[,;:.!?]+)(?=\s+\w)", re.IGNORECASE)
_PATTERNS = tuple((words, re.compile(idiom, re.IGNORECASE), plain) for words, idiom, plain in _IDIOMS)


def plainly(text: str, scored: Container[str] = frozenset()) -> str:
    """The text with each idiom rewritten as what it means. `scored`: the words VADER
    scores (its lexicon), for "pretty" and "anything but"."""
    folded = text.lower()
    for words, pattern, plain in _PATTERNS:
        if any(word in folded for word in words) and pattern.search(text):
            text = pattern.sub(plain, text)
            folded = text.lower()  # "zero complaints" is now "no complaints"
    if "no " in folded:
        text = _NO_SCOPE.sub(r"\1 ,", text)
    for words, pattern, meaning in _BEFORE_ADJECTIVE:
        if words + " " in folded:
            text = pattern.sub(lambda m, meaning=meaning: f"{meaning if _plain_or_scored(m[2], scored) else m[1]} {m[2]}", text)
    return text


def _plain_or_scored(word: str, scored: Container[str]) -> bool:
    word = word.lower()
    return word in scored or word in _PLAIN
