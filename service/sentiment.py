"""The sentiment pass: VADER's compound on title + text, combined with the star rating.

The rule, in the order it is applied (thresholds come from [sentiment] in the config):
- text in a language VADER cannot read: the rating alone decides (1-2 negative), and
  without a rating the review is not flagged; the reason says so;
- rating 1-2: negative;
- rating 4-5: negative only when the text is strongly negative
  (compound <= strong_negative_threshold) — a mis-clicked five stars;
- rating 3 or no rating: the text decides, by the text rule below.
Every verdict carries its reason in words, stored with the score.

The text rule (issue 6). The compound of a whole review adds up every word and saturates
towards +1, and complaints such as "Food was cold." score exactly 0. So the text reads
negative when
- the whole text's compound <= negative_threshold (plain VADER), or
- it is split into sentences, each scored by VADER; a sentence's score is the lower of its
  own compound and that of the clause after its last "but"/"however"/"unfortunately",
  minus CUE_WEIGHT when it holds a complaint cue (service/complaints.py); the text reads
  negative when its lowest sentence score <= negative_threshold and the mean sentence
  score <= MEAN_CEILING (one sour sentence in a glowing review is not enough).
The reason names the sentence, the clause or the cue that decided. Thresholds were tuned
on the `tune` split of bench/sentiment_eval.py only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from service import complaints, language
from service.config import SentimentConfig

NEGATIVE_RATINGS = (1, 2)
CUE_WEIGHT = 1.0  # what a complaint cue takes off its sentence's score
MEAN_CEILING = 0.0  # the mean sentence score must not be above this for a sentence to flag the text
QUOTE = 120  # characters of a sentence quoted in the reason

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|(?<=[.!?])(?=[A-Z])")
_TURN = re.compile(r"\b(?:but|however|unfortunately)\b", re.IGNORECASE)
POSITIVE_RATINGS = (4, 5)

LANGUAGE_NAMES = {
    "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "el": "Greek", "ru": "Russian", "pl": "Polish", "tr": "Turkish", "ar": "Arabic",
    "he": "Hebrew", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "cs": "Czech", "uk": "Ukrainian", "hu": "Hungarian", "ro": "Romanian",
}


@dataclass(frozen=True, slots=True)
class TextReading:
    compound: float  # of the whole text
    negative: bool
    why: str  # "the text reads negative (...)" or "... does not read negative (...)"


def _quote(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    return repr(sentence if len(sentence) <= QUOTE else sentence[:QUOTE - 1] + "…")


@dataclass(frozen=True, slots=True)
class Verdict:
    negative: bool
    compound: float | None  # None when VADER could not read the text
    language: str | None
    reason: str


class SentimentScorer:
    """Build once per process: VADER reads its lexicon files when it is built."""

    def __init__(self, config: SentimentConfig):
        self.config = config

    @cached_property
    def _vader(self) -> SentimentIntensityAnalyzer:
        return SentimentIntensityAnalyzer()

    def score(self, *, text: str, title: str | None, rating: int | None, translation: str | None = None) -> Verdict:
        body = "\n".join(part for part in (title, text) if part)
        detected = language.detect(body)
        if detected is not None and detected != "en":
            if translation:  # the platform's own English translation is something VADER can read
                verdict = self._combine(self._read(translation), rating, detected)
                return Verdict(verdict.negative, verdict.compound, detected,
                               f"{verdict.reason}; scored on the platform's English translation of the {LANGUAGE_NAMES.get(detected, detected)} text")
            return self._by_rating_only(detected, rating)
        return self._combine(self._read(body), rating, detected)

    def _compound(self, text: str) -> float:
        return round(self._vader.polarity_scores(text)["compound"], 4) if text else 0.0

    def _read(self, text: str) -> TextReading:
        """The text rule (see the module docstring): whole text, then sentence by sentence."""
        weak = self.config.negative_threshold
        compound = self._compound(text)
        if compound <= weak:
            return TextReading(compound, True, f"the text reads negative (compound {compound:+.2f} <= {weak:+.2f})")
        scores: list[float] = []
        worst: tuple[float, str] | None = None
        for number, sentence in enumerate((part for part in _SENTENCE.split(text) if part.strip()), start=1):
            score = own = self._compound(sentence)
            why = f"sentence {number} reads negative ({own:+.2f}): {_quote(sentence)}"
            turn = None
            for turn in _TURN.finditer(sentence):
                pass
            if turn is not None and sentence[turn.end():].strip():
                after = self._compound(sentence[turn.end():])
                if after < score:
                    score = after
                    why = f"after '{turn.group(0).lower()}' in sentence {number} reads negative ({after:+.2f}): {_quote(sentence[turn.end():])}"
            cue = complaints.find(sentence)
            if cue is not None:
                score -= CUE_WEIGHT
                why = f"complaint cue ({cue[0]}): '{cue[1]}' in sentence {number}: {_quote(sentence)}"
            scores.append(score)
            if worst is None or score < worst[0]:
                worst = (score, why)
        if worst is None:
            return TextReading(compound, False, f"the text does not read negative (compound {compound:+.2f} > {weak:+.2f})")
        mean = sum(scores) / len(scores)
        if worst[0] <= weak and mean <= MEAN_CEILING:
            return TextReading(compound, True, f"{worst[1]} (whole text {compound:+.2f}, sentence mean {mean:+.2f})")
        return TextReading(compound, False, f"the text does not read negative (compound {compound:+.2f} > {weak:+.2f}; "
                                            f"lowest sentence {worst[0]:+.2f}, sentence mean {mean:+.2f} > {MEAN_CEILING:+.2f})"
                                            if worst[0] <= weak else
                                            f"the text does not read negative (compound {compound:+.2f}, lowest sentence {worst[0]:+.2f} > {weak:+.2f})")

    def _by_rating_only(self, lang: str, rating: int | None) -> Verdict:
        name = LANGUAGE_NAMES.get(lang, lang)
        unread = f"the text is in {name} ({lang}), which VADER cannot read"
        if rating is None:
            return Verdict(False, None, lang, f"{unread}, and there is no rating: not flagged")
        negative = rating in NEGATIVE_RATINGS
        return Verdict(negative, None, lang, f"{unread}; rating {rating} of 5 decides: {'negative' if negative else 'not negative'}")

    def _combine(self, reading: TextReading, rating: int | None, lang: str | None) -> Verdict:
        compound, strong = reading.compound, self.config.strong_negative_threshold
        if rating in NEGATIVE_RATINGS:
            return Verdict(True, compound, lang, f"rating {rating} of 5")
        if rating in POSITIVE_RATINGS:
            if compound <= strong:
                return Verdict(True, compound, lang, f"rating {rating} of 5, but the text is strongly negative (compound {compound:+.2f} <= {strong:+.2f})")
            return Verdict(False, compound, lang, f"rating {rating} of 5 and the text is not strongly negative (compound {compound:+.2f} > {strong:+.2f})")
        stars = "no rating" if rating is None else f"rating {rating} of 5"
        return Verdict(reading.negative, compound, lang, f"{stars}; {reading.why}")
