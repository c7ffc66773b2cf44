"""How well does the negative flag find negative reviews? (issue 6, "Flagging accuracy")

Scores, on the labelled sets in ../shared/data/reviews/ (see its README.md and each
folder's README), with "negative" as the positive class (precision, recall, F1):

  text only   plain VADER       compound(text) <= -0.05, measured in the same run
              reviewmon text    service.reading.sentiment.SentimentScorer(SentimentConfig()).score(
                                    text=..., title=..., rating=None, translation=None)
  with stars  stars alone       rating <= 2
              reviewmon stars   the same scorer, with rating=... (the production rule)

"text" is what reviewmon reads: title + text joined by a newline where a set has titles
(only the clothing reviews do); plain VADER reads the same string, so the two text-only
rules differ only by reviewmon's rule, never by their input.

Ground truth "negative" per set, and whether the set has stars:
- uci-yelp, uci-amazon, uci-imdb (uci-sentiment-labelled-sentences, one row per file):
  label 0 = negative (the authors' own label; balanced 500/500). No stars.
- vader-amazon, vader-movie (vader-icwsm2014-review-snippets): the mean of 20+ human
  raters on -4..+4; negative when the mean is <= -0.5 (the cut used by the folder's README
  and the baseline in ../README.md). No stars. Caution: VADER was tuned and reported on
  these, so VADER's figures here are not an independent test.
- clothing (womens-clothing-ecommerce-reviews): negative when Recommended IND = 0 (the
  reviewer's own "would you recommend", which is not derived from the stars). Has stars.
- alexa (amazon-alexa-reviews): negative when rating <= 2 (the set's only label; its
  `feedback` column is derived from the stars). Has stars, so "stars alone" is right by
  definition there and the combined rule's only possible errors are the 4-5 star reviews
  it flags; those are counted, not judged.
Rows with an empty text are left out (the clothing set has 845, alexa 79); rows repeated
with the same title, text, label and stars are counted once (alexa lists one review for
several device variations: 3150 rows, about 2300 distinct).

The two text-only rules read the same input; they differ where reviewmon's rule
(service/reading/sentiment.py: sentences, the clause after "but", complaint cues, the language
check) decides otherwise than the whole-text compound; the output counts those rows.

Each figure comes with its 95% interval (precision: Wilson's; F1, and the F1 gain over
plain VADER on the same rows: a seeded bootstrap over the rows). Where a target lies
inside that interval, the verdict says "within the interval": the rows measured cannot
tell a pass from a fail (alexa's held-out split has 68 negatives).

Five-star reviews: for sets with stars the JSON and a line under the table count how many
five-star reviews each rule flags and, where the label is independent of the stars
(clothing), how many of those the reviewer did not recommend. No set labels "angry text
under five stars" as such; `--examples N` prints flagged five-star texts to read.

Held-out split: each row goes to `tune` (60%) or `held-out` (40%) by a SHA-256 hash of its
text, so the split is the same on every machine and run, and repeated texts never land on
both sides. Figures are on held-out unless `--split` says otherwise; tune the scorer on
`--split tune` only. The tune rows are also the text model's training data
(bench/fit_text_model.py), so figures on `--split tune` flatter it.

    .venv/bin/python bench/sentiment_eval.py                      # held-out, every row
    .venv/bin/python bench/sentiment_eval.py --split all --json
    .venv/bin/python bench/sentiment_eval.py --data DIR --limit 2000
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reviews"
TUNE_SHARE = 60  # percent
VADER_NEGATIVE = -0.05
SNIPPET_NEGATIVE_MEAN = -0.5
TARGET_F1_GAIN = 0.10
TARGET_PRECISION = 0.6
CONFIDENCE, BOOTSTRAP_RESAMPLES = 0.95, 1000
SPLITS = ("tune", "held-out", "all")


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    negative: bool  # the ground truth
    title: str | None = None
    rating: int | None = None

    @property
    def body(self) -> str:
        """What the scorer reads: title and text, one line each (as service/reading/sentiment.py joins them)."""
        return "\n".join(part for part in (self.title, self.text) if part)


@dataclass(frozen=True, slots=True)
class LabelledSet:
    name: str
    gold: str  # what "negative" means here, in words
    has_stars: bool
    gold_from_stars: bool  # the label is the stars themselves (stars-alone is right by definition)
    rows: list[Row] = field(default_factory=list)


# -- arithmetic ---------------------------------------------------------------------

@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def precision_interval(counts: Counts) -> tuple[float, float] | None:
    """95% Wilson interval of the precision: the flags are a sample of what the rule would flag."""
    from scipy.stats import binomtest

    flags = counts.tp + counts.fp
    if not flags:
        return None
    found = binomtest(counts.tp, flags).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return round(float(found.low), 4), round(float(found.high), 4)


def _f1(flags, truth, axis=-1):
    """F1 along an axis of 0/1 arrays (the shape scipy's vectorized bootstrap passes)."""
    import numpy as np

    tp = (flags * truth).sum(axis=axis)
    wrong = (flags != truth).sum(axis=axis)
    return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + wrong, 1), 0.0)


def _bootstrap(statistic, *columns: list[bool]) -> tuple[float, float] | None:
    """95% percentile-bootstrap interval of statistic(*columns), rows resampled together
    (seeded: the same figures every run)."""
    import numpy as np
    from scipy.stats import bootstrap

    if len(columns[0]) < 2 or not any(any(column) for column in columns):
        return None
    found = bootstrap(tuple(np.array(column, dtype=np.int8) for column in columns), statistic, paired=True,
                      vectorized=True, n_resamples=BOOTSTRAP_RESAMPLES, batch=100, method="percentile",
                      confidence_level=CONFIDENCE, rng=np.random.default_rng(0)).confidence_interval
    return round(float(found.low), 4), round(float(found.high), 4)


def f1_interval(predicted: list[bool], actual: list[bool]) -> tuple[float, float] | None:
    return _bootstrap(_f1, predicted, actual)


def f1_gain_interval(ours: list[bool], plain: list[bool], actual: list[bool]) -> tuple[float, float] | None:
    """The interval of F1(ours) - F1(plain VADER) on the same resampled rows: the target's own figure."""
    return _bootstrap(lambda a, b, truth, axis=-1: _f1(a, truth, axis) - _f1(b, truth, axis), ours, plain, actual)


def split_of(row: Row) -> str:
    """'tune' or 'held-out', from a hash of what the scorer reads: stable across runs and machines."""
    bucket = int.from_bytes(hashlib.sha256(row.body.encode("utf-8")).digest()[:8], "big") % 100
    return "tune" if bucket < TUNE_SHARE else "held-out"


def select(rows: Iterable[Row], split: str, limit: int | None = None) -> list[Row]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    chosen = [row for row in rows if split == "all" or split_of(row) == split]
    return chosen[:limit] if limit else chosen


# -- the rules ----------------------------------------------------------------------

class Rules:
    """The rules being compared; build once (VADER reads its lexicon when built)."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        from service.config import SentimentConfig
        from service.reading.sentiment import SentimentScorer

        self._vader = SentimentIntensityAnalyzer()
        self._scorer = SentimentScorer(SentimentConfig())

    def plain_vader(self, row: Row) -> bool:
        return self._vader.polarity_scores(row.body)["compound"] <= VADER_NEGATIVE

    def reviewmon_text(self, row: Row) -> bool:
        return self._scorer.score(text=row.text, title=row.title, rating=None, translation=None).negative

    def reviewmon_stars(self, row: Row) -> bool:
        return self._scorer.score(text=row.text, title=row.title, rating=row.rating, translation=None).negative

    @staticmethod
    def stars_alone(row: Row) -> bool:
        return row.rating is not None and row.rating <= 2


Rule = Callable[[Row], bool]


def rule_table(rules: Rules, has_stars: bool) -> list[tuple[str, str, Rule]]:
    """(mode, rule name, predicate) in the order they are reported."""
    table = [("text", "plain VADER", rules.plain_vader), ("text", "reviewmon", rules.reviewmon_text)]
    if has_stars:
        table += [("with stars", "stars alone", rules.stars_alone), ("with stars", "reviewmon", rules.reviewmon_stars)]
    return table


def _target_inside(target: dict) -> bool:
    """Whether a target lies inside its figure's 95% interval (precision; F1 gain over plain
    VADER on the same rows): the sample cannot tell pass from fail."""
    return any(interval is not None and interval[0] <= needed <= interval[1]
               for interval, needed in ((target["precision_95"], TARGET_PRECISION), (target["f1_gain_95"], TARGET_F1_GAIN)))


def evaluate(rows: list[Row], table: list[tuple[str, str, Rule]]) -> dict:
    """Precision/recall/F1 of each rule on these rows, the five-star counts and the issue 6 target."""
    counts = {(mode, name): Counts() for mode, name, _ in table}
    five = [row for row in rows if row.rating == 5]
    five_star = {"rows": len(five), "negative": sum(row.negative for row in five), "flagged": {}}
    predictions: dict[tuple[str, str], list[bool]] = {}
    truth = [row.negative for row in rows]
    for mode, name, rule in table:
        flagged_five = flagged_five_negative = 0
        predictions[(mode, name)] = []
        for row in rows:
            predicted = rule(row)
            predictions[(mode, name)].append(predicted)
            counts[(mode, name)].add(predicted, row.negative)
            if predicted and row.rating == 5:
                flagged_five += 1
                flagged_five_negative += row.negative
        if five:
            five_star["flagged"][f"{mode}: {name}"] = {"flagged": flagged_five, "of_them_negative": flagged_five_negative}
    result: dict = {
        "rows": len(rows),
        "negatives": sum(row.negative for row in rows),
        "rules": [{"mode": mode, "rule": name, **counts[(mode, name)].as_dict(),
                   "precision_95": precision_interval(counts[(mode, name)]),
                   "f1_95": f1_interval(predictions[(mode, name)], truth)} for mode, name, _ in table],
    }
    plain, ours = counts.get(("text", "plain VADER")), counts.get(("text", "reviewmon"))
    if plain is not None and ours is not None:
        result["text_rules_disagree"] = sum(
            a != b for a, b in zip(predictions[("text", "plain VADER")], predictions[("text", "reviewmon")], strict=True))
        result["target"] = {
            "rule": f"text-only F1 >= plain VADER F1 + {TARGET_F1_GAIN:.2f} and precision >= {TARGET_PRECISION}",
            "f1_needed": round(plain.f1 + TARGET_F1_GAIN, 4),
            "f1": round(ours.f1, 4),
            "precision": round(ours.precision, 4),
            "precision_95": precision_interval(ours),
            "f1_gain_95": f1_gain_interval(predictions[("text", "reviewmon")], predictions[("text", "plain VADER")], truth),
            # compare at the printed precision, so a PASS never hides behind the fourth decimal
            "pass": round(ours.f1, 4) >= round(plain.f1 + TARGET_F1_GAIN, 4) and round(ours.precision, 4) >= TARGET_PRECISION,
        }
        result["target"]["within_interval"] = _target_inside(result["target"])
    if five:
        result["five_star"] = five_star
    return result


# -- the data -----------------------------------------------------------------------

def _lines(path: Path) -> list[str]:
    """CRLF or LF, no header, maybe no final newline; never split on other Unicode breaks."""
    text = path.read_text(encoding="utf-8")
    return [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _dedupe(rows: Iterable[Row]) -> list[Row]:
    return list(dict.fromkeys(row for row in rows if row.text.strip()))


def load_uci(path: Path) -> list[Row]:
    rows = []
    for line in _lines(path):
        sentence, label = line.rsplit("\t", 1)  # sentences hold quotes: the last tab is the only safe split
        rows.append(Row(text=sentence.strip(), negative=label.strip() == "0"))
    return _dedupe(rows)


def load_snippets(path: Path) -> list[Row]:
    rows = []
    for line in _lines(path):
        _id, mean, text = line.split("\t", 2)
        rows.append(Row(text=text.strip(), negative=float(mean) <= SNIPPET_NEGATIVE_MEAN))
    return _dedupe(rows)


def load_clothing(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return _dedupe(
            Row(text=(record["Review Text"] or "").strip(), title=(record["Title"] or "").strip() or None,
                rating=int(record["Rating"]), negative=record["Recommended IND"].strip() == "0")
            for record in csv.DictReader(handle)
        )


def load_alexa(path: Path) -> list[Row]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return _dedupe(
            Row(text=(record["verified_reviews"] or "").strip(), rating=int(record["rating"]),
                negative=int(record["rating"]) <= 2)
            for record in csv.DictReader(handle, delimiter="\t")
        )


def load_sets(data: Path) -> list[LabelledSet]:
    uci = data / "uci-sentiment-labelled-sentences"
    snippets = data / "vader-icwsm2014-review-snippets"
    no_stars = {"has_stars": False, "gold_from_stars": False}
    return [
        LabelledSet("uci-yelp", "label 0", rows=load_uci(uci / "yelp_labelled.txt"), **no_stars),
        LabelledSet("uci-amazon", "label 0", rows=load_uci(uci / "amazon_cells_labelled.txt"), **no_stars),
        LabelledSet("uci-imdb", "label 0", rows=load_uci(uci / "imdb_labelled.txt"), **no_stars),
        LabelledSet("vader-amazon", f"human mean <= {SNIPPET_NEGATIVE_MEAN}",
                    rows=load_snippets(snippets / "amazonReviewSnippets_GroundTruth.txt"), **no_stars),
        LabelledSet("vader-movie", f"human mean <= {SNIPPET_NEGATIVE_MEAN}",
                    rows=load_snippets(snippets / "movieReviewSnippets_GroundTruth.txt"), **no_stars),
        LabelledSet("clothing", "not recommended (Recommended IND = 0)", has_stars=True, gold_from_stars=False,
                    rows=load_clothing(data / "womens-clothing-ecommerce-reviews" / "womens_clothing_ecommerce_reviews.csv")),
        LabelledSet("alexa", "rating <= 2", has_stars=True, gold_from_stars=True,
                    rows=load_alexa(data / "amazon-alexa-reviews" / "amazon_alexa.tsv")),
    ]


# -- the report ---------------------------------------------------------------------

def run(data: Path, split: str = "held-out", limit: int | None = None) -> dict:
    started = time.perf_counter()
    rules = Rules()
    report: dict = {"split": split, "data": str(data), "limit": limit, "sets": {}}
    for labelled in load_sets(data):
        rows = select(labelled.rows, split, limit)
        result = evaluate(rows, rule_table(rules, labelled.has_stars))
        report["sets"][labelled.name] = {"gold": labelled.gold, "has_stars": labelled.has_stars,
                                         "gold_from_stars": labelled.gold_from_stars, **result}
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def header(split: str) -> str:
    if split == "held-out":
        return "Negative flag, figures on the held-out split (40%), never used for tuning"
    if split == "tune":
        return "Negative flag, figures on the TUNE split (60%): tuning data, not a fair test"
    return "Negative flag, figures on ALL rows (tune + held-out): includes tuning data"


def format_table(report: dict) -> str:
    columns = ("set", "rows", "neg", "mode", "rule", "precision", "recall", "F1", "95% interval: P; F1", "issue 6 target")
    lines: list[tuple[str, ...]] = []
    notes: list[str] = []
    disagree: list[str] = []
    for name, result in report["sets"].items():
        for rule in result["rules"]:
            target = ""
            if rule["mode"] == "text" and rule["rule"] == "reviewmon" and "target" in result:
                t = result["target"]
                target = (f"{'PASS' if t['pass'] else 'FAIL'} (needs F1 >= {t['f1_needed']:.2f}, "
                          f"P >= {TARGET_PRECISION})" + (", within the interval" if t["within_interval"] else ""))
            if rule["mode"] == "with stars" and result["gold_from_stars"]:
                target = "gold is the stars: stars alone right by definition"
            lines.append((name, str(result["rows"]), str(result["negatives"]), rule["mode"], rule["rule"],
                          f"{rule['precision']:.2f}", f"{rule['recall']:.2f}", f"{rule['f1']:.2f}",
                          f"{_span(rule['precision_95'])}; {_span(rule['f1_95'])}", target))
        five = result.get("five_star")
        if five:
            independent = not result["gold_from_stars"]
            flagged = "; ".join(f"{rule} {v['flagged']}" + (f" ({v['of_them_negative']} of them negative)" if independent else "")
                                for rule, v in five["flagged"].items())
            labelled = f" ({five['negative']} labelled negative)" if independent else " (no label apart from the stars)"
            notes.append(f"{name}: {five['rows']} five-star{labelled}, flagged by {flagged}")
        if result.get("text_rules_disagree"):
            disagree.append(f"{name} {result['text_rules_disagree']}")
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(columns)]
    numeric = {1, 2, 5, 6, 7}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    out = [header(report["split"]) + (f"; at most {report['limit']} rows per set" if report["limit"] else ""),
           f"target (issue 6): text-only F1 >= plain VADER F1 + {TARGET_F1_GAIN:.2f} and precision >= {TARGET_PRECISION}",
           "95% intervals: precision by Wilson, F1 by bootstrap over the rows; \"within the interval\": the target "
           "lies inside the interval of the precision or of the F1 gain over plain VADER, so the sample cannot settle it",
           "", fmt(columns), fmt(tuple("-" * w for w in widths))]
    previous = None
    for line in lines:
        out.append(fmt(line if line[0] != previous else ("", "", "", *line[3:])))
        previous = line[0]
    out += ["", "Five-star reviews each rule flags:", *(f"  {note}" for note in notes),
            "", "Rows where reviewmon's text rule and plain VADER disagree (its sentence rule, the text "
            "model, and non-English text left unflagged): " + (", ".join(disagree) or "none"),
            "", f"{report['seconds']:.1f} s"]
    return "\n".join(out)


def _span(interval: list[float] | None) -> str:
    return f"{interval[0]:.2f}-{interval[1]:.2f}" if interval else "-"


def five_star_examples(data: Path, split: str, count: int) -> list[str]:
    rules = Rules()
    shown = []
    for labelled in load_sets(data):
        if not labelled.has_stars:
            continue
        for row in select(labelled.rows, split):
            if row.rating == 5 and rules.reviewmon_stars(row):
                text = " | ".join(part for part in (row.title, row.text) if part)
                shown.append(f"{labelled.name} (labelled {'negative' if row.negative else 'not negative'}): {text[:300]}")
                if len([s for s in shown if s.startswith(labelled.name)]) >= count:
                    break
    return shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the reviews data folder (default: %(default)s)")
    parser.add_argument("--split", choices=SPLITS, default="held-out", help="which part to report (default: held-out)")
    parser.add_argument("--limit", type=int, default=None, help="at most N rows per set (default: all)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--examples", type=int, default=0, metavar="N",
                        help="also print up to N five-star reviews per set that reviewmon's combined rule flags")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no data folder at {args.data} (use --data DIR)")
    report = run(args.data, args.split, args.limit)
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    if args.examples:
        print("\nFive-star reviews reviewmon's combined rule flags:")
        for example in five_star_examples(args.data, args.split, args.examples):
            print(f"  {example}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
