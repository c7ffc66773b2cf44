"""Progress of a long poll (a spinner and a count per source) or a database copy (a bar
per table) on a terminal.

Off when stderr is not a terminal: cron mail and logs get only what matters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from service.polling.poll import Progress as ProgressCallback


@contextmanager
def poll_progress(*, enabled: bool) -> Iterator[ProgressCallback | None]:
    if not enabled:
        yield None
        return
    tasks: dict[str, int] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(), transient=True,
    ) as bar:

        def advance(source: str, records: int) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(source, total=None)
            bar.update(tasks[source], advance=records)

        yield advance


@contextmanager
def copy_progress(*, enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A bar per table of a database copy on a terminal; a log line per table otherwise."""
    log = logging.getLogger("reviewmon.db")
    if not enabled:
        def logged(table: str, done: int, total: int) -> None:
            if done == total:
                log.info("copied table %s", table, extra={"table": table, "rows": done})
        yield logged
        return
    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description:24}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} rows"),
                  TimeElapsedColumn()) as bar:

        def advance(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total)
            bar.update(tasks[table], completed=done)

        yield advance
