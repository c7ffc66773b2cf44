"""The sentiment pass (and the marks read from the text) of a big import on every core.

Reading a review's text (VADER on the text and on each sentence, the language model, the
escalation and triage marks) is most of the CPU of storing it, and it is pure: the text
in, a verdict and marks out. A poll of one big
source (a file import, a first poll of a busy location) would do all of it on one core.
A ScoringPool starts helper processes once a poll has shown itself big (a batch of at
least MIN_BATCH reviews to score: platforms serve 50 to 100 reviews a page, so such a
batch is a file import, a backfill or the pages of many sources stored together) and,
once they are up, sends each large batch to them while the caller goes on writing the
reviews themselves. Small batches, the usual cron poll, never start it: sending them
costs more than it saves.

Helpers are spawned, not forked (the poller has threads by then), and load VADER once
each (and the language model, if a text needs it).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from service.config import SentimentConfig
from service.reading import marks
from service.reading.sentiment import SentimentScorer, Verdict

log = logging.getLogger("reviewmon.poll")

MIN_BATCH = 400
HELPER_NICENESS = 10
Item = tuple[str, str | None, int | None, str | None]  # text, title, rating, translation
Keywords = dict[str, list[str]]  # escalation keywords by reason ([escalation] in the config)
Reading = tuple[Verdict, marks.TextMarks]

_scorer: SentimentScorer | None = None  # a helper's own
_keywords: Keywords = {}


def _start_helper(config: SentimentConfig, keywords: Keywords) -> None:
    global _scorer, _keywords
    # Below the poller and the database server in the CPU queue: they are on the critical
    # path (a PostgreSQL backend starved by the helpers made every statement wait).
    with contextlib.suppress(OSError, AttributeError):
        os.nice(HELPER_NICENESS)

    _scorer, _keywords = SentimentScorer(config), keywords
    _scorer.load()  # the language model loads if a text needs it (service/reading/language.py)


def _started() -> None:
    """Run once by each helper: its future is done when the helper is up."""


def _read_all(scorer: SentimentScorer, keywords: Keywords, items: Sequence[Item]) -> list[Reading]:
    return [(scorer.score(text=text, title=title, rating=rating, translation=translation),
             marks.read(text, title, keywords, translation)) for text, title, rating, translation in items]


def _read_items(items: Sequence[Item]) -> list[Reading]:
    assert _scorer is not None
    return _read_all(_scorer, _keywords, items)


class Scores:
    """The readings (verdict, marks) of a batch sent to the helpers: `get(i)` waits for
    the i-th, and is None when a helper failed (killed, out of memory): the caller reads
    it itself."""

    def __init__(self, futures: list[Future[list[Reading]]] | None = None, done: list[Reading] | None = None):
        self._futures = futures or []
        self._done = done
        self._failed = False

    def all(self) -> list[Reading] | None:
        if self._done is None and not self._failed:
            try:
                self._done = [verdict for future in self._futures for verdict in future.result()]
            except Exception:
                log.warning("a scoring helper failed; this batch is scored in the polling process", exc_info=True)
                self._failed = True
        return self._done

    def get(self, index: int) -> Reading | None:
        done = self.all()
        return None if done is None else done[index]


class ScoringPool:
    """Scores batches in `helpers` other processes (default: one per core) once the
    work has shown itself big; small batches, and everything until the helpers are up,
    in this one."""

    def __init__(self, scorer: SentimentScorer, keywords: Keywords | None = None, helpers: int | None = None):
        self.scorer = scorer
        self.keywords = keywords or {}
        cores = os.cpu_count() or 1
        self.helpers = (cores if cores > 1 else 0) if helpers is None else helpers  # one core: nothing to gain
        self._executor: ProcessPoolExecutor | None = None
        self._started: list[Future[None]] = []

    def submit(self, items: Sequence[Item]) -> Scores:
        """Start scoring; the caller goes on with other work (writing) meanwhile."""
        if self.helpers == 0 or len(items) < MIN_BATCH or not self._ready():
            return Scores(done=_read_all(self.scorer, self.keywords, items))
        try:
            return self._send(items)
        except BrokenProcessPool:  # a helper died (out of memory, killed): score here from now on
            log.warning("a scoring helper process died; scoring in this process from now on")
            self.close()
            self.helpers = 0
            return self.submit(items)

    def send(self, items: Sequence[Item]) -> Scores | None:
        """Send a batch of any size to the helpers if they are up and running; else None,
        and nothing is done (`submit` will see to it)."""
        if not items or not self.running():
            return None
        try:
            return self._send(items)
        except BrokenProcessPool:
            return None

    def running(self) -> bool:
        return self._executor is not None and all(future.done() for future in self._started)

    def _send(self, items: Sequence[Item]) -> Scores:
        assert self._executor is not None
        size = -(-len(items) // (self.helpers * 2))  # two chunks per helper: a slow one does not hold up the rest
        return Scores([self._executor.submit(_read_items, list(items[i:i + size])) for i in range(0, len(items), size)])

    def _ready(self) -> bool:
        """Start the helpers at the first big batch (a small poll never pays for them: each
        loads Python, VADER and the language model, a second of CPU, so they start as soon
        as a poll shows itself big); use them once they have all started."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.helpers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_helper, initargs=(self.scorer.config, self.keywords))
            self._started = [self._executor.submit(_started) for _ in range(self.helpers)]
        return self.running()

    def read(self, items: Sequence[Item]) -> list[Reading]:
        """Read a batch and wait for it."""
        read = self.submit(items).all()
        if read is None:
            return _read_all(self.scorer, self.keywords, items)
        return read

    def close(self, *, wait: bool = True) -> None:
        """Stop the helpers. wait=False: tell them to exit and go on (they are idle: a
        poll's last page is stored); they end while the caller does other work, and the
        interpreter waits for them at exit if need be."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor, self._started = None, []

    def __enter__(self) -> ScoringPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
