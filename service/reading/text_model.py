"""The learned last step of the text rule: VADER's readings and the review's words, weighed.

VADER's compound, read whole and sentence by sentence, with the clause after "but" and the
complaint cues (service/reading/sentiment.py), is still what decides most reviews; but rules
written by hand stopped carrying over to reviews they were not written from (issue 6). So
the last step is a logistic regression over
- the figures of that reading (`Signals`: VADER's whole-text scores, the lowest and mean
  sentence scores, the cues, the hand rule's own verdict), and
- the words of the review as VADER read them (`tokens`: each word, each pair of
  neighbouring words, each word after a negation marked as such; present or not),
fit by `bench/fit_text_model.py` on the `tune` split of the labelled review sets only,
and shipped as the data file text_model.json beside this module (weights, the threshold,
and how they were fit). Reading it needs no machine-learning library: a sum of weights.

A linear model explains itself: each figure and each word adds a known amount towards
"negative", so the reason stored with a flag names what weighed most.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import NamedTuple

MODEL_FILE = "text_model.json"
FORMAT = 1  # bump when Signals or the tokens change: an old model file is then refused, not misread
STRONGEST = 3  # figures and words named in a reason

_TOKEN = re.compile(r"\b\w\w+\b")  # words of two or more letters or digits, as scikit-learn's CountVectorizer takes them
_CLAUSE_END = re.compile(r"[.,;:!?\n]+")
NEGATED = "not_"
# negations as _TOKEN splits them: "didn't" gives "didn" ("can't" gives "can", which is no negation alone)
_NEGATORS = frozenset({"not", "no", "never", "nothing", "without", "nor", "cannot", "dont", "didnt", "doesnt", "isnt",
                       "wasnt", "werent", "wont", "cant", "wouldnt", "couldnt", "don", "didn", "doesn", "isn", "wasn",
                       "weren", "won", "wouldn", "couldn", "aren", "hasn", "haven", "hadn", "shouldn"})


class Signals(NamedTuple):
    """The figures of one text's reading by service/reading/sentiment.py, in the model's order."""

    compound: float  # VADER's compound of the whole text
    positive: float  # VADER's share of positive words in the whole text
    negative: float  # ... of negative words
    neutral: float  # ... of neither
    lowest: float  # the hand rule's lowest sentence score (after "but", minus the cue weight)
    mean: float  # the hand rule's mean sentence score
    lowest_plain: float  # the lowest sentence compound, as VADER reads the sentence alone
    mean_plain: float
    highest_plain: float
    first: float  # the first sentence's compound
    last: float  # the last sentence's compound
    after_turn: float  # the lowest compound of a clause after "but"/"however"/"unfortunately"; 0 without one
    cues: float  # sentences holding a complaint cue, at most 3
    sentences: float  # log(1 + sentences)
    words: float  # log(1 + words)
    rule: float  # 1 when the hand rule alone reads the text negative

    @staticmethod
    def names() -> tuple[str, ...]:
        return Signals._fields


_NAMES = Signals.names()

# How a figure is named in a reason.
_LABELS = {
    "compound": "whole-text compound", "positive": "share of positive words", "negative": "share of negative words",
    "neutral": "share of neutral words", "lowest": "lowest sentence score", "mean": "mean sentence score",
    "lowest_plain": "lowest sentence compound", "mean_plain": "mean sentence compound",
    "highest_plain": "highest sentence compound", "first": "first sentence's compound", "last": "last sentence's compound",
    "after_turn": "compound after 'but'", "cues": "complaint cues", "sentences": "number of sentences",
    "words": "length", "rule": "the sentence rule",
}


def tokens(text: str) -> set[str]:
    """What the model weighs of a text's words, each counted once, in lower case:
    - each word of two or more letters or digits ("cold");
    - each pair of neighbouring words within a clause ("will return", "not worth");
    - each word after a negation in its clause, marked "not_" ("not cold at all" gives
      "not_cold", "not_at", "not_all"), so "not cold" and "cold" are weighed apart.
    Clauses end at punctuation."""
    found: set[str] = set()
    for clause in _CLAUSE_END.split(text.lower()):
        words = _TOKEN.findall(clause)
        found.update(words)
        found.update(f"{first} {second}" for first, second in zip(words, words[1:]))
        negated = False
        for word in words:
            if negated:
                found.add(NEGATED + word)
            negated = negated or word in _NEGATORS
    return found


def describe(token: str) -> str:
    """A token as a reason names it."""
    if token.startswith(NEGATED):
        return f"{token[len(NEGATED):]!r} after a negation"
    return f"the words {token!r}" if " " in token else f"the word {token!r}"


@dataclass(frozen=True, slots=True)
class Weighing:
    probability: float  # that the text is a complaint, by the model
    negative: bool
    threshold: float
    strongest: tuple[str, ...]  # what pushed most towards the verdict, in words

    def why(self) -> str:
        side = "reads" if self.negative else "does not read"
        weighed = f"; weighed most: {', '.join(self.strongest)}" if self.strongest else ""
        return f"the text {side} negative (text model {self.probability:.2f}, flags from {self.threshold:.2f}{weighed})"


class ModelFileError(ValueError):
    """The model file is missing a part, or was written for other Signals or tokens."""


@dataclass(frozen=True)
class TextModel:
    intercept: float
    threshold: float
    means: tuple[float, ...]  # of each signal on the training rows
    scales: tuple[float, ...]  # their standard deviations (the signal weights are per standard deviation)
    signal_weights: tuple[float, ...]
    word_weights: dict[str, float]
    fitted: dict  # how and on what the model was fit (bench/fit_text_model.py writes it)

    @classmethod
    def from_dict(cls, data: dict) -> TextModel:
        if data.get("format") != FORMAT:
            raise ModelFileError(f"text model format {data.get('format')!r}, this reviewmon reads format {FORMAT}")
        signals = data.get("signals") or {}
        if tuple(signals.get("names", ())) != _NAMES:
            raise ModelFileError("the text model was fit on other signals than this reviewmon computes")
        try:
            model = cls(float(data["intercept"]), float(data["threshold"]),
                        tuple(map(float, signals["means"])), tuple(map(float, signals["scales"])),
                        tuple(map(float, signals["weights"])),
                        {str(word): float(weight) for word, weight in data["words"].items()}, dict(data.get("fitted", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ModelFileError(f"the text model file is incomplete: {error!r}") from error
        count = len(_NAMES)
        if not (len(model.means) == len(model.scales) == len(model.signal_weights) == count) or 0 in model.scales:
            raise ModelFileError("the text model's signal columns do not match")
        return model

    def to_dict(self) -> dict:
        return {"format": FORMAT, "intercept": self.intercept, "threshold": self.threshold,
                "signals": {"names": list(_NAMES), "means": list(self.means), "scales": list(self.scales),
                            "weights": list(self.signal_weights)},
                "words": self.word_weights, "fitted": self.fitted}

    def weigh(self, signals: Signals, text: str) -> Weighing:
        """The model's verdict on a text that VADER read as `signals`; `text` is the text as VADER read it."""
        parts: list[tuple[float, int | str]] = [  # (contribution, index of a signal or a token)
            (weight * (value - mean) / scale, index)
            for index, (value, mean, scale, weight) in enumerate(zip(signals, self.means, self.scales, self.signal_weights))]
        words = self.word_weights
        parts += [(words[token], token) for token in tokens(text) if words.get(token)]
        total = self.intercept + sum(contribution for contribution, _ in parts)
        probability = 1.0 / (1.0 + math.exp(-total)) if total > -700 else 0.0
        negative = probability >= self.threshold
        toward = sorted((part for part in parts if (part[0] > 0) == negative and part[0] != 0), key=lambda part: -abs(part[0]))
        strongest = tuple(f"{_LABELS[_NAMES[key]]} {_shown(_NAMES[key], signals[key])}" if isinstance(key, int) else describe(key)
                          for _, key in toward[:STRONGEST])
        return Weighing(probability, negative, self.threshold, strongest)


def _shown(name: str, value: float) -> str:
    if name == "rule":
        return "(negative)" if value else "(not negative)"
    if name in ("sentences", "words"):
        return f"({round(math.expm1(value))})"
    if name == "cues":
        return f"({round(value)})"
    if name in ("positive", "negative", "neutral"):
        return f"{value:.2f}"
    return f"{value:+.2f}"


def load(path: str | None = None) -> TextModel:
    """The model in `path`, or the one shipped with reviewmon."""
    if path is None:
        raw = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            raw = handle.read()
    return TextModel.from_dict(json.loads(raw))


@cache
def bundled() -> TextModel:
    return load()
