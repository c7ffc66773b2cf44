"""The text model (service/reading/text_model.py): what it weighs, how it explains, the file it reads, how it is fit."""

from __future__ import annotations

import csv
import importlib.util
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from service.config import SentimentConfig
from service.reading import text_model
from service.reading.sentiment import SentimentScorer
from service.reading.text_model import ModelFileError, Signals, TextModel, tokens
from tests.paths import ROOT

COUNT = len(Signals.names())
scorer = SentimentScorer(SentimentConfig())


def words_only(words: dict[str, float], *, intercept: float = 0.0, threshold: float = 0.5) -> TextModel:
    """A model that weighs words alone: what it says follows from the weights given here."""
    return TextModel(intercept=intercept, threshold=threshold, means=(0.0,) * COUNT, scales=(1.0,) * COUNT,
                     signal_weights=(0.0,) * COUNT, word_weights=words, fitted={})


# -- tokens --------------------------------------------------------------------------

def test_tokens_are_words_pairs_and_negated_words_within_a_clause() -> None:
    assert tokens("Food was COLD.") == {"food", "was", "cold", "food was", "was cold"}
    negated = tokens("It was not cold at all, lovely.")
    assert {"not_cold", "not_at", "not_all", "not cold"} <= negated
    assert "not_lovely" not in negated and "lovely" in negated  # the comma ends the negation's clause
    assert "cold lovely" not in negated  # and pairs stay inside a clause
    assert "not_work" in tokens("It didn't work")  # "didn't" splits to "didn", a negation
    assert tokens("a I 5") == set()  # one-character words carry nothing


def test_tokens_of_hostile_text_are_bounded_and_plain() -> None:
    text = "{{ config }} <script>alert(1)</script> \x1b[31m ünïcödé 😀 " * 2000  # ~110 KB
    found = tokens(text)
    assert "config" in found and "script" in found and "ünïcödé" in found
    assert len(found) < 50  # repeats count once


# -- weighing and explaining ----------------------------------------------------------

def test_the_weighing_is_a_logistic_sum_and_names_what_weighed_most() -> None:
    model = words_only({"cold": 3.0, "lovely": -3.0, "soup": 0.5})
    weighing = model.weigh(Signals(*(0.0,) * COUNT), "food was cold, the soup too")
    assert weighing.probability == pytest.approx(1 / (1 + 2.718281828 ** -3.5), rel=1e-6)
    assert weighing.negative and weighing.strongest == ("the word 'cold'", "the word 'soup'")
    kind = model.weigh(Signals(*(0.0,) * COUNT), "lovely soup")
    assert not kind.negative and kind.strongest == ("the word 'lovely'",)
    assert kind.why().startswith("the text does not read negative (text model 0.08, flags from 0.50")


def test_a_signal_weighs_per_standard_deviation_from_its_training_mean() -> None:
    index = Signals.names().index("lowest")
    weights = [0.0] * COUNT
    weights[index] = 2.0
    model = replace(words_only({}), means=tuple(-0.2 if i == index else 0.0 for i in range(COUNT)),
                    scales=tuple(0.4 if i == index else 1.0 for i in range(COUNT)), signal_weights=tuple(weights))
    values = [0.0] * COUNT
    values[index] = -1.0  # two standard deviations below the mean
    weighing = model.weigh(Signals(*values), "")
    assert weighing.probability == pytest.approx(1 / (1 + 2.718281828 ** 4.0), rel=1e-6)
    assert not weighing.negative and weighing.strongest == ("lowest sentence score -1.00",)


def test_extreme_sums_do_not_overflow() -> None:
    assert words_only({"bad": -1000.0}).weigh(Signals(*(0.0,) * COUNT), "bad").probability == 0.0
    assert words_only({"bad": 1000.0}).weigh(Signals(*(0.0,) * COUNT), "bad").probability == 1.0


def test_the_scorer_asks_the_model_it_is_given_and_keeps_the_rules_reading_in_the_reason() -> None:
    model = words_only({"zorbly": 4.0})
    given = SentimentScorer(SentimentConfig(), model=model)
    verdict = given.score(text="The zorbly soup was lovely.", title=None, rating=None)
    assert verdict.negative
    assert "the text reads negative (text model 0.98, flags from 0.50; weighed most: the word 'zorbly')" in verdict.reason
    assert "sentence rule alone: the text does not read negative" in verdict.reason
    # stars 1-2 and 4-5 never ask the model
    assert not given.score(text="The zorbly soup was lovely.", title=None, rating=5).negative
    assert "text model" not in given.score(text="The zorbly soup was lovely.", title=None, rating=5).reason


def test_turning_the_model_off_leaves_the_sentence_rule_alone() -> None:
    off = SentimentScorer(SentimentConfig(text_model=False), model=words_only({"zorbly": 4.0}))
    verdict = off.score(text="The zorbly soup was lovely.", title=None, rating=None)
    assert not verdict.negative and "text model" not in verdict.reason


def test_the_config_key_defaults_on_and_is_validated() -> None:
    assert SentimentConfig().text_model is True
    with pytest.raises(ValueError):
        SentimentConfig(text_model="sometimes")


# -- the shipped model, on what a user would expect of it -----------------------------

@pytest.mark.parametrize("text", ["They charged me twice.", "Still waiting for my order.",
                                  "Boring, not worth the money.", "The waiter ignored us and the fries were soggy.",
                                  "Tried to call three times, nobody picked up. Very disappointing."])
def test_the_shipped_model_flags_complaints(text: str) -> None:
    verdict = scorer.score(text=text, title=None, rating=None)
    assert verdict.negative, verdict.reason
    assert "text model" in verdict.reason and "weighed most: " in verdict.reason


@pytest.mark.parametrize("text", ["Lovely staff and great food, we will be back.", "Works perfectly, I use it every day.",
                                  "Fast delivery and the dress fits beautifully.", "Best pizza in town, highly recommended!"])
def test_the_shipped_model_leaves_praise_alone(text: str) -> None:
    verdict = scorer.score(text=text, title=None, rating=3)
    assert not verdict.negative, verdict.reason


def test_the_shipped_model_still_reads_a_five_star_rant_as_negative() -> None:
    verdict = scorer.score(text="Worst meal of my life, rude staff, disgusting.", title=None, rating=5)
    assert verdict.negative and "strongly negative" in verdict.reason


def test_hostile_text_is_weighed_as_plain_text() -> None:
    text = "{{ 7*7 }} {% raise %} <b>awful</b> \x1b[2J" + " terrible service" * 6000  # ~100 KB
    verdict = scorer.score(text=text, title=None, rating=None)
    assert verdict.negative and "49" not in verdict.reason


def test_the_shipped_model_file_says_how_it_was_fit() -> None:
    model = text_model.bundled()
    assert 0 < model.threshold < 1 and len(model.word_weights) > 1000
    assert model.fitted["by"] == "bench/fit_text_model.py" and model.fitted["split"].startswith("tune")
    assert set(model.fitted["cross_validated"]) == {"uci-yelp", "uci-amazon", "uci-imdb", "vader-amazon",
                                                    "vader-movie", "clothing", "alexa"}


# -- the model file -------------------------------------------------------------------

def test_a_model_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    original = words_only({"cold": 1.5}, intercept=-0.25, threshold=0.6)
    path.write_text(json.dumps(original.to_dict()), encoding="utf-8")
    assert text_model.load(str(path)) == original


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(format=99), "format 99"),
    (lambda d: d["signals"].update(names=d["signals"]["names"][:-1]), "other signals"),
    (lambda d: d.pop("threshold"), "incomplete"),
    (lambda d: d["signals"].update(weights=d["signals"]["weights"][:-1]), "do not match"),
    (lambda d: d["signals"].update(scales=[0.0] * COUNT), "do not match"),
    (lambda d: d.update(words=["cold"]), "incomplete"),
])
def test_a_model_file_for_another_reviewmon_is_refused_not_misread(change, message: str) -> None:
    document = words_only({"cold": 1.5}).to_dict()
    change(document)
    with pytest.raises(ModelFileError, match=message):
        TextModel.from_dict(document)


# -- fitting ---------------------------------------------------------------------------

def _labelled_data(folder: Path) -> None:
    """Every labelled set bench/sentiment_eval.py reads, in its own format, made of two made-up
    words VADER does not know: 'zorbly' marks each complaint, 'quimble' each kind review."""
    rng = random.Random(7)
    things = ["soup", "room", "phone", "dress", "film", "staff", "screen", "delivery", "table", "plot"]

    def review(number: int, negative: bool) -> str:
        return f"The {rng.choice(things)} number {number} was {'zorbly' if negative else 'quimble'} {rng.choice(things)}."

    def rows(count: int = 60) -> list[tuple[str, bool]]:
        return [(review(n, n % 2 == 0), n % 2 == 0) for n in range(count)]

    uci = folder / "uci-sentiment-labelled-sentences"
    uci.mkdir(parents=True)
    for name in ("yelp_labelled.txt", "amazon_cells_labelled.txt", "imdb_labelled.txt"):
        (uci / name).write_text("".join(f"{text}\t{0 if negative else 1}\n" for text, negative in rows()), encoding="utf-8")
    snippets = folder / "vader-icwsm2014-review-snippets"
    snippets.mkdir()
    for name in ("amazonReviewSnippets_GroundTruth.txt", "movieReviewSnippets_GroundTruth.txt"):
        (snippets / name).write_text("".join(f"{i}\t{-2.0 if negative else 2.0}\t{text}\n"
                                             for i, (text, negative) in enumerate(rows())), encoding="utf-8")
    clothing = folder / "womens-clothing-ecommerce-reviews"
    clothing.mkdir()
    with (clothing / "womens_clothing_ecommerce_reviews.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Title", "Review Text", "Rating", "Recommended IND"])
        writer.writerows(["", text, 3, 0 if negative else 1] for text, negative in rows())
    alexa = folder / "amazon-alexa-reviews"
    alexa.mkdir()
    with (alexa / "amazon_alexa.tsv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["rating", "verified_reviews"])
        writer.writerows([1 if negative else 5, text] for text, negative in rows())


def _fit_script():
    """bench/fit_text_model.py, imported (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("fit_text_model", ROOT / "bench" / "fit_text_model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fit_text_model", module)
    spec.loader.exec_module(module)
    return module


def test_fitting_writes_a_model_the_scorer_reads_and_that_learned_its_words(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="scikit-learn fits the model: pip install -e '.[fit]'")
    _labelled_data(tmp_path / "data")
    out = tmp_path / "model.json"
    assert _fit_script().main(["--data", str(tmp_path / "data"), "--out", str(out)]) == 0

    model = text_model.load(str(out))
    assert model.word_weights["zorbly"] > 0 > model.word_weights["quimble"]
    assert model.fitted["rows"] < 7 * 60  # the tune split only
    given = SentimentScorer(SentimentConfig(), model=model)
    assert given.score(text="The lamp was zorbly.", title=None, rating=None).negative
    assert not given.score(text="The lamp was quimble.", title=None, rating=None).negative
    assert "the word 'zorbly'" in given.score(text="The lamp was zorbly.", title=None, rating=None).reason


def test_fitting_without_the_data_says_so(tmp_path: Path, capsys) -> None:
    assert _fit_script().main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.json")]) == 2
    assert "no labelled data" in capsys.readouterr().err and not (tmp_path / "m.json").exists()
