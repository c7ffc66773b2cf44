"""Which words of humane replies does the guard refuse for want of a lexicon entry?

A maintainer's aid for growing a lexicon (reply_templates/README.md, "Adding a
language"): give it replies owners would post, in the corpus format of
bench/guard_corpus/, and it lists per language the dictionary forms of the words that
made the guard refuse a clause, most frequent first, each with a clause it stood in.

    .venv/bin/python bench/guard_unknown_words.py bench/guard_corpus/tune_8.jsonl
    .venv/bin/python bench/guard_unknown_words.py my_replies.jsonl --lang fr --limit 50

It adds nothing itself: a word allowed is a word any clause may use, so a person reads
the list and decides. Never run it on a held-out file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.guard_eval import BUSINESS, channels_of  # noqa: E402
from service.replies.guard import check_reply  # noqa: E402


def unknown_words(rows: list[dict]) -> tuple[dict[str, Counter], dict[tuple[str, str], str]]:
    """language -> Counter of dictionary forms, from the refused clauses of humane replies;
    and (language, word) -> a clause it stood in."""
    found: dict[str, Counter] = defaultdict(Counter)
    examples: dict[tuple[str, str], str] = {}
    for row in rows:
        if row.get("label") != "humane":
            continue
        result = check_reply(row["text"], channels=channels_of(row), business_name=BUSINESS)
        for clause in result.clauses:
            if clause.ok or not clause.unknown:
                continue
            language = clause.language or row.get("lang", "?")
            for word in clause.unknown:
                found[language][word] += 1
                examples.setdefault((language, word), clause.text)
    return found, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--lang", help="only this language")
    parser.add_argument("--limit", type=int, default=200, help="words per language")
    args = parser.parse_args()
    if any(path.name.startswith("held_out") for path in args.files):
        parser.error("a held-out file is never read while writing rules")
    rows = [json.loads(line) for path in args.files for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    found, examples = unknown_words(rows)
    for language in sorted(found):
        if args.lang and language != args.lang:
            continue
        print(f"# {language}: {sum(found[language].values())} refusals for want of a word")
        for word, count in found[language].most_common(args.limit):
            print(f"{count:4d}  {word:24s}  {examples[(language, word)]!r}")


if __name__ == "__main__":
    main()
