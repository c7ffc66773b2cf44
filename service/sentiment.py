"""The sentiment pass: VADER's compound on title + text, combined with the star rating.

The rule, in the order it is applied (thresholds come from [sentiment] in the config):
- text in a language VADER cannot read: the rating alone decides (1-2 negative), and
  without a rating the review is not flagged; the reason says so;
- rating 1-2: negative;
- rating 4-5: negative only when the text is strongly negative
  (compound <= strong_negative_threshold) — a mis-clicked five stars;
- rating 3 or no rating: the text decides (compound <= negative_threshold).
Every verdict carries its reason in words, stored with the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from service import language
from service.config import SentimentConfig

NEGATIVE_RATINGS = (1, 2)
POSITIVE_RATINGS = (4, 5)

LANGUAGE_NAMES = {
    "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "el": "Greek", "ru": "Russian", "pl": "Polish", "tr": "Turkish", "ar": "Arabic",
    "he": "Hebrew", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "cs": "Czech", "uk": "Ukrainian", "hu": "Hungarian", "ro": "Romanian",
}


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
                verdict = self._combine(self._compound(translation), rating, detected)
                return Verdict(verdict.negative, verdict.compound, detected,
                               f"{verdict.reason}; scored on the platform's English translation of the {LANGUAGE_NAMES.get(detected, detected)} text")
            return self._by_rating_only(detected, rating)
        return self._combine(self._compound(body), rating, detected)

    def _compound(self, text: str) -> float:
        return round(self._vader.polarity_scores(text)["compound"], 4) if text else 0.0

    def _by_rating_only(self, lang: str, rating: int | None) -> Verdict:
        name = LANGUAGE_NAMES.get(lang, lang)
        unread = f"the text is in {name} ({lang}), which VADER cannot read"
        if rating is None:
            return Verdict(False, None, lang, f"{unread}, and there is no rating: not flagged")
        negative = rating in NEGATIVE_RATINGS
        return Verdict(negative, None, lang, f"{unread}; rating {rating} of 5 decides: {'negative' if negative else 'not negative'}")

    def _combine(self, compound: float, rating: int | None, lang: str | None) -> Verdict:
        weak, strong = self.config.negative_threshold, self.config.strong_negative_threshold
        if rating in NEGATIVE_RATINGS:
            return Verdict(True, compound, lang, f"rating {rating} of 5")
        if rating in POSITIVE_RATINGS:
            if compound <= strong:
                return Verdict(True, compound, lang, f"rating {rating} of 5, but the text is strongly negative (compound {compound:+.2f} <= {strong:+.2f})")
            return Verdict(False, compound, lang, f"rating {rating} of 5 and the text is not strongly negative (compound {compound:+.2f} > {strong:+.2f})")
        stars = "no rating" if rating is None else f"rating {rating} of 5"
        if compound <= weak:
            return Verdict(True, compound, lang, f"{stars}; the text reads negative (compound {compound:+.2f} <= {weak:+.2f})")
        return Verdict(False, compound, lang, f"{stars}; the text does not read negative (compound {compound:+.2f} > {weak:+.2f})")
