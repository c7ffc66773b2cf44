"""Progress of a long poll on a terminal (a spinner and a count per source).

Off when stderr is not a terminal: cron mail and logs get only what matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
