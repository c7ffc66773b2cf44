"""VADER as vaderSentiment scores a text, in time linear in its length.

For each word it weighs, vaderSentiment 3.3 hands its negation and idiom checks the
whole list of the text's words, which they lowercase again on every call, though they
read no more than three words before the word and two after it. A review's cost thus
grows with the square of its length: on 20,000 reviews of 5 to 120 words that copying
is 40% of VADER's time. Here the two checks get only the words they read, and run
VADER's own code on them (the negation check only when a word it reads could change
the valence): the scores are VADER's, to the last digit
(tests/reading/test_vader.py compares the two on generated texts full of VADER's special cases).
"""

from __future__ import annotations

from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

BEFORE, AFTER = 3, 2  # the words either side of word i that the two checks read
# The negation check changes a valence only when a word it reads is one of these (or
# holds "n't"): a negation, or the "so"/"this" of "never so good", "this good".
NEGATION_CHECK_READS = frozenset(NEGATE) | {"so", "this"}


class LinearVader(SentimentIntensityAnalyzer):
    """A drop-in SentimentIntensityAnalyzer: same lexicon, same rules, same scores."""

    def _negation_check(self, valence: float, words: list[str], start_i: int, i: int) -> float:
        # reads words i-1-start_i .. i-1, and VADER calls it only when i > start_i
        low = max(0, i - BEFORE)
        if not any(w.lower() in NEGATION_CHECK_READS or "n't" in w.lower() for w in words[low:i]):
            return valence  # most words: nothing it reads can change the valence
        return SentimentIntensityAnalyzer._negation_check(valence, words[low:i + 1], start_i, i - low)

    def _special_idioms_check(self, valence: float, words: list[str], i: int) -> float:
        # reads words i-3 .. i+2 (those after i only when the text has them); VADER calls
        # it only when i > 2, so the window starts at the text's word i-3
        return SentimentIntensityAnalyzer._special_idioms_check(valence, words[i - BEFORE:i + AFTER + 1], BEFORE)
