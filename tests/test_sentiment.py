"""The sentiment pass: stars and text combined, with the reason kept in words."""

from __future__ import annotations

import pytest

from service.config import SentimentConfig
from service.sentiment import SentimentScorer

scorer = SentimentScorer(SentimentConfig())


@pytest.mark.parametrize(
    ("text", "rating", "negative", "reason"),
    [
        ("Lovely evening, great food.", 1, True, "rating 1 of 5"),
        ("Lovely evening, great food.", 2, True, "rating 2 of 5"),
        ("Not bad, a little slow.", 4, False, "not strongly negative"),
        ("Worst meal of my life, rude staff, disgusting.", 5, True, "strongly negative"),
        ("Terrible service, awful food.", 3, True, "rating 3 of 5; the text reads negative"),
        ("Great food, lovely staff.", 3, False, "does not read negative"),
        ("Terrible service, awful food.", None, True, "no rating; the text reads negative"),
        ("", 5, False, "rating 5 of 5"),
        ("", None, False, "no rating"),
    ],
)
def test_stars_and_text_combine_as_documented(text: str, rating: int | None, negative: bool, reason: str) -> None:
    verdict = scorer.score(text=text, title=None, rating=rating)
    assert verdict.negative is negative
    assert reason in verdict.reason


def test_title_counts_with_the_text() -> None:
    assert scorer.score(text="The food.", title="Disgusting and awful", rating=None).negative
    assert not scorer.score(text="The food.", title=None, rating=None).negative


def test_a_language_vader_cannot_read_is_not_guessed_from_its_text() -> None:
    angry_french = "Service épouvantable, nourriture froide, le serveur était très impoli avec nous."
    verdict = scorer.score(text=angry_french, title=None, rating=None)
    assert (verdict.negative, verdict.compound, verdict.language) == (False, None, "fr")
    assert "French (fr), which VADER cannot read, and there is no rating" in verdict.reason
    assert scorer.score(text=angry_french, title=None, rating=1).negative
    assert not scorer.score(text=angry_french, title=None, rating=5).negative


def test_thresholds_come_from_the_config() -> None:
    strict = SentimentScorer(SentimentConfig(negative_threshold=0.5, strong_negative_threshold=0.4))
    assert strict.score(text="It was okay I guess.", title=None, rating=3).negative
    assert not scorer.score(text="It was okay I guess.", title=None, rating=3).negative


def test_a_platform_translation_is_scored_instead_of_guessing() -> None:
    german = "Das Essen war kalt und der Kellner war sehr unhöflich zu uns, nie wieder."
    verdict = scorer.score(text=german, title=None, rating=None, translation="The food was cold and the waiter was very rude to us, never again.")
    assert verdict.negative and verdict.language == "de" and verdict.compound is not None
    assert "scored on the platform's English translation of the German text" in verdict.reason
