"""Fewer garbage collections while a poll stores thousands of rows.

A poll makes and drops a few dicts and tuples per review, and CPython's cyclic collector
runs every 700 new objects, each time walking every object the process has made since
its last full collection, and at times all of them: the imported modules, the models,
VADER's lexicon. That was 0.2 s of a 6.5 s import of 20,000 reviews (bench/ingest.py,
A/B over four runs each), on the process every page waits for. For the length of the
poll, what exists at its start is frozen (left out of collections) and the collector
runs every 20,000 new objects; both are put back when it ends, however it ends. Memory
is still freed as before: reference counting frees all but cycles, and the collector
still runs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000  # new objects between collections (CPython's default: 700)


@contextmanager
def fewer_collections() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
