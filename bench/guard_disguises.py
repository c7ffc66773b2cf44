"""Every chain of disguises on every harmful seed of the guard's property tests, checked
exhaustively (issue 17): at most one letter style, up to two separators in either
order, at most one wrapper. The property tests draw a few hundred of these at random;
this walks all of them (about 47,000, a minute).

    .venv/bin/python bench/guard_disguises.py [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.disguises import DISGUISES, SEPARATORS, STYLES, WRAPPERS  # noqa: E402
from tests.replies.test_guard_properties import HARMFUL, OPEN, refused  # noqa: E402


def chains() -> list[list[str]]:
    separators = [(), *((name,) for name in SEPARATORS), *itertools.permutations(SEPARATORS, 2)]
    found = []
    for style, separator, wrapper in itertools.product([None, *STYLES], separators, [None, *WRAPPERS]):
        chain = [*([style] if style else []), *separator, *([wrapper] if wrapper else [])]
        if chain:
            found.append(chain)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started, checked, passed = time.perf_counter(), 0, []
    for seed in HARMFUL:
        before, rest = seed.split("{", 1)
        word, after = rest.split("}", 1)
        for chain in chains():
            disguised = word
            for name in chain:
                disguised = DISGUISES[name](disguised)
            checked += 1
            if not refused(OPEN + before + disguised + after):
                passed.append({"seed": seed, "chain": chain})
    result = {"checked": checked, "passed": len(passed), "examples": passed[:10],
              "seconds": round(time.perf_counter() - started, 1)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{checked:,} disguised harmful replies checked in {result['seconds']} s: {len(passed)} passed the guard")
        for example in passed[:10]:
            print(f"  {example['chain']}: {example['seed']}")


if __name__ == "__main__":
    main()
