"""How often does the public-reply guard let harm through, and how often does it refuse a
humane reply? (issue 17, "Measured, not asserted")

    .venv/bin/python bench/guard_eval.py                    # the final held-out split: counts only
    .venv/bin/python bench/guard_eval.py --split tuning --show-failures   # while writing rules
    .venv/bin/python bench/guard_eval.py --json             # for bench/run_all.py

The corpus is bench/guard_corpus/ (its README says who wrote it and how). Rules are
written and tuned on the tune files only; the held-out file is read by
this script and nothing else, and for it the script prints counts and rates, never the replies, so that looking
at the result cannot leak its texts into the rules. Each rate comes with its 95% Wilson
interval. The cost is the wall time of check_reply per reply, after one warm-up pass.

Targets (held-out): bypass 0 of at least 100 harmful replies; false refusals at most 5%;
under 2 ms per reply.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.config import BusinessConfig  # noqa: E402
from service.replies.guard import check_reply  # noqa: E402

CORPUS = ROOT / "bench" / "guard_corpus"
# tune .. tune-17: rules are written against these (their failures may be shown).
# tune-3 to tune-7, tune-9, tune-11, tune-13 to tune-15 and tune-17 were held out once, each measured once on the rules
# of its day, then spent (bench/guard_corpus/README.md says what each gave); tune-8,
# tune-10 and tune-12 were written to gather owners' words, tune-16 to try subtler harm. held-out-12 is written by a
# hand that never saw the rules, read by this script only, and never shown.
SPLITS = {"tune": "tune.jsonl", "tune-2": "tune_2.jsonl", "tune-3": "tune_3.jsonl", "tune-4": "tune_4.jsonl",
          "tune-5": "tune_5.jsonl", "tune-6": "tune_6.jsonl", "tune-7": "tune_7.jsonl", "tune-8": "tune_8.jsonl",
          "tune-9": "tune_9.jsonl", "tune-10": "tune_10.jsonl",
          "tune-11": "tune_11.jsonl", "tune-12": "tune_12.jsonl",
          "tune-13": "tune_13.jsonl", "tune-14": "tune_14.jsonl",
          "tune-15": "tune_15.jsonl", "tune-16": "tune_16.jsonl", "tune-17": "tune_17.jsonl", "held-out-12": "held_out_12.jsonl"}
TUNING = tuple(split for split in SPLITS if split.startswith("tune"))
BUSINESS = "Harbour Lane Bistro"
CONFIDENCE = 0.95


def load(split: str) -> list[dict]:
    names = [SPLITS[s] for s in TUNING] if split == "tuning" else [SPLITS[split]]
    rows = []
    for name in names:
        with open(CORPUS / name, encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines if line.strip()]
    return rows


def channels_of(row: dict):
    return [BusinessConfig(name=BUSINESS, contact=value).contact_channel for value in row["channels"]]


def wilson(hits: int, total: int) -> tuple[float, float] | None:
    from scipy.stats import binomtest

    if not total:
        return None
    found = binomtest(hits, total).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return round(float(found.low), 4), round(float(found.high), 4)


def evaluate(rows: list[dict]) -> dict:
    verdicts = []
    for row in rows:  # warm-up: lexicons, look-alike table, caches
        check_reply(row["text"], channels=channels_of(row), business_name=BUSINESS)
    timings = []
    for row in rows:
        channels = channels_of(row)
        started = time.perf_counter()
        result = check_reply(row["text"], channels=channels, business_name=BUSINESS)
        timings.append((time.perf_counter() - started) * 1000)
        verdicts.append((row, result))
    harmful = [(row, r) for row, r in verdicts if row["label"] == "harmful"]
    humane = [(row, r) for row, r in verdicts if row["label"] == "humane"]
    bypassed = [(row, r) for row, r in harmful if r.ok]
    refused = [(row, r) for row, r in humane if not r.ok]
    return {
        "replies": len(rows),
        "harmful": len(harmful),
        "bypassed": len(bypassed),
        "bypass_rate": round(len(bypassed) / len(harmful), 4) if harmful else None,
        "bypass_interval": wilson(len(bypassed), len(harmful)),
        "humane": len(humane),
        "refused": len(refused),
        "false_refusal_rate": round(len(refused) / len(humane), 4) if humane else None,
        "false_refusal_interval": wilson(len(refused), len(humane)),
        "by_language": {
            lang: {"harmful": sum(1 for row, _ in harmful if row["lang"] == lang),
                   "bypassed": sum(1 for row, _ in bypassed if row["lang"] == lang),
                   "humane": sum(1 for row, _ in humane if row["lang"] == lang),
                   "refused": sum(1 for row, _ in refused if row["lang"] == lang)}
            for lang in sorted({row["lang"] for row in rows})
        },
        "bypassed_by_category": dict(Counter(row["category"] for row, _ in bypassed)),
        "refused_by_category": dict(Counter(row["category"] for row, _ in refused)),
        "ms_mean": round(statistics.fmean(timings), 3) if timings else None,
        "ms_p99": round(sorted(timings)[int(len(timings) * 0.99) - 1], 3) if timings else None,
        "_failures": [(row, r) for row, r in bypassed + refused],
    }


def report(split: str, result: dict, show_failures: bool) -> None:
    def rate(hits: str, total: str, share: str, interval: str) -> str:
        low, high = result[interval] or (0, 0)
        return f"{result[hits]} of {result[total]} ({result[share]:.1%}, 95% interval {low:.1%}-{high:.1%})"

    print(f"guard evaluation, split {split}: {result['replies']} replies")
    print(f"  bypass (harmful passed):     {rate('bypassed', 'harmful', 'bypass_rate', 'bypass_interval')}")
    print(f"  false refusal (humane refused): {rate('refused', 'humane', 'false_refusal_rate', 'false_refusal_interval')}")
    print(f"  cost: {result['ms_mean']} ms per reply on average, p99 {result['ms_p99']} ms")
    for lang, counts in result["by_language"].items():
        print(f"  {lang}: bypassed {counts['bypassed']} of {counts['harmful']}, refused {counts['refused']} of {counts['humane']}")
    if result["bypassed_by_category"]:
        print(f"  bypassed by category: {result['bypassed_by_category']}")
    if result["refused_by_category"]:
        print(f"  refused by category: {result['refused_by_category']}")
    if show_failures:
        for row, verdict in result["_failures"]:
            print(f"\n[{row['id']} {row['label']} {row['category']} {row['disguise']}] {row['text']!r}")
            for problem in verdict.problems:
                print(f"    - {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=[*SPLITS, "tuning"], default="held-out-12")
    parser.add_argument("--show-failures", action="store_true", help="print the failing replies (tune split only)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.show_failures and args.split not in (*TUNING, "tuning"):
        parser.error("--show-failures is for the tuning splits: the held-out replies are never shown")
    result = evaluate(load(args.split))
    if args.json:
        print(json.dumps({"split": args.split, **{k: v for k, v in result.items() if not k.startswith("_")}}))
    else:
        report(args.split, result, args.show_failures)


if __name__ == "__main__":
    main()
