"""The sentiment pass: VADER's compound on title + text, combined with the star rating.

The rule, in the order it is applied (thresholds come from [sentiment] in the config):
- text in a language VADER cannot read: the platform's English translation is read if it
  sent one, else the rating alone decides (1-2 negative), and without a rating the
  review is not flagged; the reason says so;
- no text but the platform's translation (it sent only that): the translation is the text;
- rating 1-2: negative;
- rating 4-5: negative only when the text is strongly negative
  (compound <= strong_negative_threshold) — a mis-clicked five stars;
- rating 3 or no rating: the text decides, by the text rule below.
Every verdict carries its reason in words, stored with the score.

The text rule (issue 6). The compound of a whole review adds up every word and saturates
towards +1, and complaints such as "Food was cold." score exactly 0. So the text reads
negative when
- the whole text's compound <= WHOLE_TEXT_THRESHOLD (or negative_threshold, if lower), or
- it is split into sentences, each scored by VADER; a sentence's score is the lower of its
  own compound and that of the clause after its last "but"/"however"/"unfortunately",
  minus CUE_WEIGHT when it holds a complaint cue (service/reading/complaints.py); the text reads
  negative when its lowest sentence score <= negative_threshold and, for a text of several
  sentences, the mean sentence score <= MEAN_CEILING (one sour sentence in a glowing
  review is not enough). A one-sentence text is thus plain VADER plus its cue and clause.
VADER reads with reviewmon's review words added to its lexicon (service/reading/review_lexicon.py).
Thresholds, words and cues were tuned on the `tune` split of bench/sentiment_eval.py only.

That is the sentence rule. Unless [sentiment] text_model is false, its reading (the
figures in service/text_model.Signals, and its own verdict) and the review's words go to
the text model, which decides; the reason names what weighed most in the model, then
the sentence, clause or cue the rule found.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from service.config import SentimentConfig
from service.reading import complaints, idioms, language, text_model
from service.reading.review_lexicon import REVIEW_LEXICON, REVIEW_NEUTRAL
from service.reading.text_model import Signals
from service.reading.vader import LinearVader

if TYPE_CHECKING:
    from service.context import Context

NEGATIVE_RATINGS = (1, 2)
POSITIVE_RATINGS = (4, 5)
RATED = NEGATIVE_RATINGS + POSITIVE_RATINGS  # ratings whose verdict needs only the whole text's compound
WHOLE_TEXT_THRESHOLD = -0.30  # a whole text this negative is negative however its sentences read
CUE_WEIGHT = 1.0  # what a complaint cue takes off its sentence's score
MEAN_CEILING = -0.10  # in a text of several sentences, the mean sentence score must be at most this
QUOTE = 120  # characters of a sentence quoted in the reason

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|(?<=[.!?])(?=[A-Z])")
_STRAIGHT = str.maketrans({"\u2019": "'", "\u2018": "'"})
_RUN_ON = re.compile(r"(?<=[^\W\d_])([,;]|\.{2,})(?=[^\W\d_])")
_TURN = re.compile(r"\b(?:but|however|unfortunately)\b", re.IGNORECASE)

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


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _quote(sentence: str) -> str:
    sentence = " ".join(sentence.split()).lstrip(", ")  # the comma service/reading/idioms.py may put before it
    return repr(sentence if len(sentence) <= QUOTE else sentence[:QUOTE - 1] + "…")


@dataclass(frozen=True, slots=True)
class Verdict:
    negative: bool
    compound: float | None  # None when VADER could not read the text
    language: str | None
    reason: str


class SentimentScorer:
    """Build once per process: VADER reads its lexicon files when it is built."""

    def __init__(self, config: SentimentConfig, model: text_model.TextModel | None = None):
        self.config = config
        self._model = model

    @cached_property
    def model(self) -> text_model.TextModel:
        """The text model: the one given, else the one shipped with reviewmon (read once per process)."""
        return self._model or text_model.bundled()

    def load(self) -> None:
        """Read VADER's lexicon and the text model now rather than at the first review."""
        self._vader
        if self.config.text_model:
            self.model

    @cached_property
    def _vader(self) -> LinearVader:
        analyzer = LinearVader()
        analyzer.lexicon.update(REVIEW_LEXICON)  # this instance's own copy: plain VADER elsewhere is unchanged
        for word in REVIEW_NEUTRAL:
            analyzer.lexicon.pop(word, None)
        return analyzer

    def score(self, *, text: str, title: str | None, rating: int | None, translation: str | None = None) -> Verdict:
        if translation and not text.strip():  # the platform sent only its translation (Tripadvisor's machine translations)
            verdict = self.score(text=translation, title=title, rating=rating)
            return Verdict(verdict.negative, verdict.compound, verdict.language,
                           f"{verdict.reason}; read in the platform's translation (it sent no original text)")
        body = "\n".join(part for part in (title, text) if part)
        detected = language.detect(body)
        if detected is not None and detected != "en":
            if translation:  # the platform's own English translation is something VADER can read
                verdict = self._combine(self._read(translation, by_sentence=rating not in RATED), rating, detected)
                return Verdict(verdict.negative, verdict.compound, detected,
                               f"{verdict.reason}; scored on the platform's English translation of the {LANGUAGE_NAMES.get(detected, detected)} text")
            return self._by_rating_only(detected, rating)
        return self._combine(self._read(body, by_sentence=rating not in RATED), rating, detected)

    def _compound(self, text: str) -> float:
        return round(self._vader.polarity_scores(text)["compound"], 4) if text else 0.0

    def _read(self, text: str, *, by_sentence: bool = True) -> TextReading:
        """The text rule (see the module docstring): the whole text, sentence by sentence, then the text model.

        by_sentence=False stops after the whole text: with a rating of 1-2 or 4-5 only its
        compound counts, and the sentence pass would double the time on the ingest path."""
        whole = min(WHOLE_TEXT_THRESHOLD, self.config.negative_threshold)
        text, scores, compound = self._whole(text)
        if not by_sentence:
            return TextReading(compound, compound <= whole, f"the text {'reads' if compound <= whole else 'does not read'} "
                                                            f"negative (compound {compound:+.2f})")
        rule, signals = self._by_sentence(text, compound, scores)
        if not self.config.text_model:
            return rule
        weighing = self.model.weigh(signals, text)
        return TextReading(compound, weighing.negative, f"{weighing.why()}; sentence rule alone: {rule.why}")

    def signals(self, text: str) -> tuple[Signals, str]:
        """What the text model weighs for this text, and the text as VADER read it (for bench/fit_text_model.py)."""
        text, scores, compound = self._whole(text)
        return self._by_sentence(text, compound, scores)[1], text

    def _whole(self, text: str) -> tuple[str, dict[str, float], float]:
        """The text as VADER reads it, VADER's scores of it, and its compound rounded as stored."""
        text = text.translate(_STRAIGHT)  # VADER reads "don't" as a negation, "don’t" not
        text = _RUN_ON.sub(r"\1 ", text)  # VADER splits words on spaces: "boring,pointless" is one unknown word
        text = idioms.plainly(text, self._vader.lexicon)  # "can't recommend them enough" is praise; "no wait, great food" too
        scores = self._vader.polarity_scores(text) if text else {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 0.0}
        return text, scores, round(scores["compound"], 4)

    def _by_sentence(self, text: str, compound: float, scores: dict[str, float]) -> tuple[TextReading, Signals]:
        """The hand-written sentence rule's verdict, and the figures the text model weighs."""
        weak = self.config.negative_threshold
        whole = min(WHOLE_TEXT_THRESHOLD, weak)
        any_cue = complaints.find(text) is not None  # most texts hold none: skip the per-sentence search
        sentences = [part for part in _SENTENCE.split(text) if part.strip()]
        ruled: list[float] = []  # each sentence's score by the rule
        plain: list[float] = []  # each sentence's own compound
        worst, why, after_turn, cues = 1.0, "", 0.0, 0
        for number, sentence in enumerate(sentences, start=1):
            own = compound if len(sentences) == 1 else self._compound(sentence)
            plain.append(own)
            score, reason = own, (f"sentence {number} reads negative ({own:+.2f}): {_quote(sentence)}" if len(sentences) > 1
                                  else f"the text reads negative (compound {own:+.2f} <= {weak:+.2f})")
            turn = None
            for turn in _TURN.finditer(sentence):
                pass
            if turn is not None and sentence[turn.end():].strip():
                after = self._compound(sentence[turn.end():])
                after_turn = min(after_turn, after)
                if after < score:
                    score, reason = after, (f"after '{turn.group(0).lower()}' in sentence {number} reads negative "
                                            f"({after:+.2f}): {_quote(sentence[turn.end():])}")
            cue = complaints.find(sentence) if any_cue else None
            if cue is not None:
                cues += 1
                score -= CUE_WEIGHT
                reason = f"complaint cue ({cue[0]}): '{cue[1]}' in sentence {number}: {_quote(sentence)}"
            ruled.append(score)
            if score < worst:
                worst, why = score, reason
        reading = self._rule(compound, whole, weak, ruled, worst, why)
        signals = Signals(
            compound=scores["compound"], positive=scores["pos"], negative=scores["neg"], neutral=scores["neu"],
            lowest=min(ruled, default=0.0), mean=_mean(ruled), lowest_plain=min(plain, default=0.0), mean_plain=_mean(plain),
            highest_plain=max(plain, default=0.0), first=plain[0] if plain else 0.0, last=plain[-1] if plain else 0.0,
            after_turn=after_turn, cues=float(min(cues, 3)), sentences=math.log1p(len(sentences)),
            words=math.log1p(len(text.split())), rule=float(reading.negative))
        return reading, signals

    @staticmethod
    def _rule(compound: float, whole: float, weak: float, scores: list[float], worst: float, why: str) -> TextReading:
        if compound <= whole:
            return TextReading(compound, True, f"the text reads negative (compound {compound:+.2f})")
        if not scores or worst > weak:
            lowest = f", lowest sentence {worst:+.2f}" if len(scores) > 1 else ""
            return TextReading(compound, False, f"the text does not read negative (compound {compound:+.2f}{lowest} > {weak:+.2f})")
        if len(scores) == 1:
            return TextReading(compound, True, why)
        mean = sum(scores) / len(scores)
        if mean <= MEAN_CEILING:
            return TextReading(compound, True, f"{why} (whole text {compound:+.2f}, sentence mean {mean:+.2f})")
        return TextReading(compound, False, f"the text does not read negative: its lowest sentence scores {worst:+.2f} "
                                            f"but the sentence mean is {mean:+.2f} > {MEAN_CEILING:+.2f} (whole text {compound:+.2f})")

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


def scorer_of(ctx: Context) -> SentimentScorer:
    """The process's scorer (VADER and the text model are loaded once, on first use)."""
    return ctx.helper("scorer", lambda: SentimentScorer(ctx.config.sentiment))
