"""Is this text English? VADER's lexicon is English only, so the sentiment pass asks.

py3langid (a maintained fork of langid.py that ships its model) decides; its model is
loaded on first use, not at import. Short texts carry too little signal to tell a
language apart and are taken as English: VADER simply finds nothing in them.

Most reviews a business gets are plainly English, and asking the model cost as much CPU
as VADER itself (and 0.3 s to load it in every process that scores; it now loads from
an unpacked copy, service/reading/langid_model.py). A text whose words
are a quarter or more English function words, two of them words no other Latin-script
language uses as words, is English without asking. That covers seven in ten texts of the
labelled review sets (bench/sentiment_eval.py data), and the model never said otherwise
of any of them; tests/reading/test_sentiment.py holds texts in other languages, several sharing
words with English, that the screen leaves to the model.
"""

from __future__ import annotations

import re
import threading
from functools import cache

MIN_LETTERS = 20  # below this, identification is a guess
MIN_CONFIDENCE = 0.90

# Matches when the text holds MIN_LETTERS letters, and stops reading there.
_ENOUGH_LETTERS = re.compile(r"(?:[\W\d_]*[^\W\d_]){%d}" % MIN_LETTERS)
_lock = threading.Lock()
_WORD = re.compile(r"[^\W\d_]+")
# English words that are not also common words of another language in the Latin script;
# the shared ones count towards the share only ("i", "to", "my" are Polish or Czech,
# "at" Tagalog, "for" Danish, "of", "was", "we" Dutch, "are" Romanian).
_ENGLISH_ONLY = frozenset("the and with this that it they you very have had were but not our your would".split())
_ENGLISH_SHARED = frozenset("i to my at for are be of was is we".split())
ENGLISH_SHARE = 0.25


def plainly_english(text: str) -> bool:
    """Enough English function words that no language model is needed to say so."""
    words = _WORD.findall(text[:2000].lower())
    only = [word for word in words if word in _ENGLISH_ONLY]
    if len(set(only)) < 2:
        return False
    return len(only) + sum(word in _ENGLISH_SHARED for word in words) >= ENGLISH_SHARE * len(words)


@cache
def _identifier():
    from service.reading.langid_model import load_identifier

    return load_identifier()


def detect(text: str) -> str | None:
    """An ISO 639-1 code when the text is long enough and the model is sure; else None."""
    if not _ENOUGH_LETTERS.match(text, 0, 2000):
        return None
    if plainly_english(text):
        return "en"
    with _lock:  # the identifier keeps scratch state
        language, confidence = _identifier().classify(text[:5000])
    return language if confidence >= MIN_CONFIDENCE else None


LIKELY_CONFIDENCE = 0.6  # for choosing the wording of a reply, a likely language will do


def likely(text: str, detected: str | None = None) -> str | None:
    """The language a reply should answer in: the scorer's sure answer where it gave one,
    else the model's first guess when it is at least LIKELY_CONFIDENCE sure. A Spanish
    review the model puts at 0.86 (below the scorer's 0.90) still gets a Spanish reply."""
    if detected is not None:
        return detected
    if not _ENOUGH_LETTERS.match(text, 0, 2000):
        return None
    with _lock:
        language, confidence = _identifier().classify(text[:5000])
    return language if confidence >= LIKELY_CONFIDENCE else None
