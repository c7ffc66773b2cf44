"""The sentiment pass of a big import on every core.

Scoring a review (VADER on the text and on each sentence, the language model) is most of
the CPU of storing it, and it is pure: the text in, a verdict out. A poll of one big
source (a file import, a first poll of a busy location) would do all of it on one core.
A ScoringPool starts helper processes the first time a batch is worth it (at least
MIN_BATCH reviews to score) and splits each large batch between them and the caller.
Small batches, the usual cron poll, never start it: sending them costs more than it saves.

Helpers are spawned, not forked (the poller has threads by then), and load VADER and the
language model once each.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from service.config import SentimentConfig
from service.sentiment import SentimentScorer, Verdict

MIN_BATCH = 400
Item = tuple[str, str | None, int | None, str | None]  # text, title, rating, translation

_scorer: SentimentScorer | None = None  # a helper's own


def _start_helper(config: SentimentConfig) -> None:
    global _scorer
    from service import language

    _scorer = SentimentScorer(config)
    _scorer.score(text="Warming up the lexicon and the language model.", title=None, rating=None)
    language.detect("warming up the language model before the first batch arrives")


def _score_items(items: Sequence[Item]) -> list[Verdict]:
    assert _scorer is not None
    return [_scorer.score(text=text, title=title, rating=rating, translation=translation) for text, title, rating, translation in items]


class ScoringPool:
    """Scores batches with `scorer` in this process and `helpers` others."""

    def __init__(self, scorer: SentimentScorer, helpers: int | None = None):
        self.scorer = scorer
        self.helpers = max(0, (os.cpu_count() or 1) - 1) if helpers is None else helpers
        self._executor: ProcessPoolExecutor | None = None

    def score(self, items: Sequence[Item]) -> list[Verdict]:
        if self.helpers == 0 or len(items) < MIN_BATCH:
            return [self.scorer.score(text=t, title=ti, rating=r, translation=tr) for t, ti, r, tr in items]
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.helpers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_helper, initargs=(self.scorer.config,))
        parts = self.helpers + 1
        size = -(-len(items) // parts)
        chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
        futures = [self._executor.submit(_score_items, chunk) for chunk in chunks[1:]]
        mine = [self.scorer.score(text=t, title=ti, rating=r, translation=tr) for t, ti, r, tr in chunks[0]]
        return mine + [verdict for future in futures for verdict in future.result()]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ScoringPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
