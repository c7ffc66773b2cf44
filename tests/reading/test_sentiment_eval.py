"""bench/sentiment_eval.py: the arithmetic and the split, on rows made here (no ../shared data)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.paths import ROOT

_PATH = ROOT / "bench" / "sentiment_eval.py"
_spec = importlib.util.spec_from_file_location("sentiment_eval", _PATH)
sentiment_eval = importlib.util.module_from_spec(_spec)
sys.modules["sentiment_eval"] = sentiment_eval  # dataclasses look their module up there
_spec.loader.exec_module(sentiment_eval)
Row, Counts, evaluate, select, split_of = (sentiment_eval.Row, sentiment_eval.Counts, sentiment_eval.evaluate,
                                           sentiment_eval.select, sentiment_eval.split_of)


def test_precision_recall_f1_arithmetic():
    rows = [
        Row("a", negative=True), Row("b", negative=True), Row("c", negative=True), Row("d", negative=True),
        Row("e", negative=False), Row("f", negative=False), Row("g", negative=False),
    ]
    flagged = {"a", "b", "c", "e"}  # tp 3, fn 1, fp 1, tn 2
    result = evaluate(rows, [("text", "plain VADER", lambda r: False), ("text", "reviewmon", lambda r: r.text in flagged)])
    assert result["rows"] == 7 and result["negatives"] == 4
    plain, ours = result["rules"]
    assert (ours["tp"], ours["fp"], ours["fn"], ours["tn"]) == (3, 1, 1, 2)
    assert ours["precision"] == 0.75 and ours["recall"] == 0.75 and ours["f1"] == 0.75
    # flagging nothing: no division by zero, all zero
    assert (plain["precision"], plain["recall"], plain["f1"]) == (0.0, 0.0, 0.0)
    # the target: F1 0.75 >= 0 + 0.10 and precision 0.75 >= 0.6
    assert result["target"]["pass"] is True and result["target"]["f1_needed"] == 0.1


def test_f1_is_the_harmonic_mean_and_the_target_can_fail():
    counts = Counts(tp=1, fp=3, fn=0, tn=0)  # precision 0.25, recall 1.0
    assert counts.f1 == pytest.approx(2 * 0.25 * 1.0 / 1.25)
    rows = [Row("x", negative=True), Row("y", negative=False), Row("z", negative=False), Row("w", negative=False)]
    result = evaluate(rows, [("text", "plain VADER", lambda r: r.text == "x"), ("text", "reviewmon", lambda r: True)])
    assert result["target"]["precision"] == 0.25 and result["target"]["pass"] is False


def test_five_star_counts_only_where_there_are_stars():
    rows = [Row("bad", negative=True, rating=5), Row("fine", negative=False, rating=5), Row("meh", negative=True, rating=1)]
    table = [("with stars", "stars alone", lambda r: r.rating <= 2), ("with stars", "reviewmon", lambda r: r.text != "fine")]
    five = evaluate(rows, table)["five_star"]
    assert five["rows"] == 2 and five["negative"] == 1
    assert five["flagged"]["with stars: reviewmon"] == {"flagged": 1, "of_them_negative": 1}
    assert five["flagged"]["with stars: stars alone"] == {"flagged": 0, "of_them_negative": 0}
    assert "five_star" not in evaluate([Row("x", negative=True)], [("text", "reviewmon", lambda r: True)])


def test_split_is_deterministic_about_60_40_and_keeps_repeats_together():
    rows = [Row(f"review number {i}", negative=i % 3 == 0) for i in range(2000)]
    first = [split_of(row) for row in rows]
    assert first == [split_of(Row(row.text, negative=not row.negative, rating=4)) for row in rows]  # text alone decides
    assert 0.55 < first.count("tune") / len(rows) < 0.65
    tune, held = select(rows, "tune"), select(rows, "held-out")
    assert len(tune) + len(held) == len(rows) and not {r.text for r in tune} & {r.text for r in held}
    assert select(rows, "all") == rows and len(select(rows, "held-out", limit=5)) == 5
    # a known value, so a change of hash or share shows up here rather than as silently moved figures
    assert split_of(Row("Food was cold.", negative=True)) == "tune"
    assert split_of(Row("Never again.", negative=True)) == "held-out"
    with pytest.raises(ValueError):
        select(rows, "test")


def test_real_rules_on_a_few_sentences():
    rules = sentiment_eval.Rules()
    rows = [Row("This is terrible, awful and broken.", negative=True, rating=5),
            Row("I love it, works great.", negative=False, rating=5),
            Row("Food was cold.", negative=True, rating=1)]
    result = evaluate(rows, sentiment_eval.rule_table(rules, has_stars=True))
    by_rule = {(r["mode"], r["rule"]): r for r in result["rules"]}
    assert by_rule[("text", "plain VADER")]["tp"] == 1 and by_rule[("text", "plain VADER")]["fn"] == 1  # "Food was cold." scores 0
    assert by_rule[("with stars", "reviewmon")]["recall"] == 1.0  # stars catch the cold food, text the angry five stars
    assert result["five_star"]["flagged"]["with stars: reviewmon"]["flagged"] == 1


def test_precision_interval_is_wilsons():
    # 3 of 4 flags right: Wilson's 95% interval, worked by hand (z = 1.96), is 0.30-0.95
    low, high = sentiment_eval.precision_interval(Counts(tp=3, fp=1, fn=5, tn=9))
    assert low == pytest.approx(0.3006, abs=1e-3) and high == pytest.approx(0.9544, abs=1e-3)
    assert sentiment_eval.precision_interval(Counts(fn=2, tn=2)) is None  # nothing flagged: no precision to bound


def test_intervals_narrow_with_more_rows_and_are_the_same_every_run():
    def rows(copies):  # the same 75%-precision, 75%-recall pattern, repeated
        return [Row(f"{i}-{j}", negative=j < 4) for i in range(copies) for j in range(7)]

    table = [("text", "plain VADER", lambda r: r.text.endswith("-0")),
             ("text", "reviewmon", lambda r: r.text[-1] in "0125")]
    small, large = evaluate(rows(10), table), evaluate(rows(100), table)
    for result in (small, large):
        ours = result["rules"][1]
        assert ours["f1_95"][0] < ours["f1"] < ours["f1_95"][1]
        assert ours["precision_95"][0] < ours["precision"] < ours["precision_95"][1]
    width = lambda interval: interval[1] - interval[0]  # noqa: E731
    assert width(large["rules"][1]["f1_95"]) < width(small["rules"][1]["f1_95"]) / 2
    assert width(large["target"]["f1_gain_95"]) < width(small["target"]["f1_gain_95"]) / 2
    assert evaluate(rows(10), table) == small  # seeded: a rerun prints the same table


def test_a_verdict_inside_the_interval_says_so():
    table = [("text", "plain VADER", lambda r: False), ("text", "reviewmon", lambda r: r.text[-1] in "0125")]

    def verdict(copies):
        rows = [Row(f"{i}-{j}", negative=j < 4) for i in range(copies) for j in range(7)]
        report = {"split": "held-out", "limit": None, "seconds": 0.0,
                  "sets": {"made-up": {"gold": "", "has_stars": False, "gold_from_stars": False, **evaluate(rows, table)}}}
        line = next(line for line in sentiment_eval.format_table(report).splitlines() if "PASS" in line or "FAIL" in line)
        return line.split("  ")[-1]

    # precision 0.75 against the 0.6 target: 28 rows cannot settle it, 700 rows can
    assert verdict(4).startswith("PASS") and verdict(4).endswith("within the interval")
    assert verdict(100).startswith("PASS") and not verdict(100).endswith("within the interval")
