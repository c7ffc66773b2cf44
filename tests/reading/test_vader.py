"""reviewmon's faster VADER must score every text exactly as vaderSentiment does: the
flag, its reason and every stored compound depend on it."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment import vaderSentiment as vader

from service.config import SentimentConfig
from service.reading.review_lexicon import REVIEW_LEXICON
from service.reading.sentiment import SentimentScorer
from service.reading.vader import LinearVader
from tests.paths import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import review_text  # noqa: E402

PLAIN = vader.SentimentIntensityAnalyzer()
LINEAR = LinearVader()

# What VADER's rules look at: negations, boosters, its idioms and special cases, the
# words its negation and "least" checks compare, and a sample of the lexicon, in
# lower case, capitals and with punctuation stuck on.
SPECIAL = sorted({
    *vader.NEGATE, *vader.BOOSTER_DICT, *vader.SPECIAL_CASES, *vader.SENTIMENT_LADEN_IDIOMS,
    "but", "no", "least", "at", "very", "never", "so", "this", "without", "doubt", "or", "nor", "kind", "of",
})
LEXICON_SAMPLE = sorted(PLAIN.lexicon)[::40] + sorted(REVIEW_LEXICON)
word = st.sampled_from(SPECIAL + LEXICON_SAMPLE + ["food", "the", "was", "y'all'dn't", "Don't", ":)", ":(", "😀", "💔"])
token = st.tuples(word, st.sampled_from(["", "", "", "!", "?", ".", ",", "!!!"]), st.booleans()).map(
    lambda t: (t[0].upper() if t[2] else t[0]) + t[1])
text = st.lists(token, max_size=40).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(text)
def test_linear_vader_scores_like_vader_on_texts_full_of_its_special_cases(sample: str) -> None:
    assert LINEAR.polarity_scores(sample) == PLAIN.polarity_scores(sample)


def test_linear_vader_scores_like_vader_on_reviews_of_every_length() -> None:
    import random

    rng = random.Random(3)
    samples = [review_text(rng, rating) for rating in (1, 2, 3, 4, 5) for _ in range(60)]
    samples += ["Not bad at all, but the soup was kind of cold and the waiter was the shit.",
                "Never so good! Without doubt the best. At least it was not the worst... NOT GOOD"]
    assert [LINEAR.polarity_scores(s) for s in samples] == [PLAIN.polarity_scores(s) for s in samples]


def test_the_scorer_reads_with_linear_vader_and_its_review_words() -> None:
    analyzer = SentimentScorer(SentimentConfig())._vader
    assert isinstance(analyzer, LinearVader)
    assert analyzer.polarity_scores("The dialogue is atrocious.")["compound"] < -0.3  # a review word
    assert PLAIN.polarity_scores("The dialogue is atrocious.")["compound"] == 0.0

