"""Polling commands: `poll` (for cron), `backfill`, `rescore`, and what the sources
and their past runs look like (`sources`, `runs`).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from service import logs, output
from service.output import Col
from service.cli.base import State, cli, format_option, limit_option, table_limit
from service.desk import queries
from service.models import RunKind

SOURCE_FIELDS = ("name", "type", "platform", "status", "schedule", "reviews", "last_polled_at", "last_success_at", "last_error",
                 "failure_count", "failing_since", "next_poll_at", "polling_by", "backfill", "warnings")
# Narrow terminals leave out the type first (the platform says it), the last error last.
SOURCE_TABLE = [Col("name", "name", 100, shrink=10), Col("platform", "platform", 30, shrink=8, drop=7),
                Col("type", "type", 20, drop=1), Col("status", "status", 20),
                Col("reviews", "reviews", 9, drop=4), Col("last_success_at", "last success", 16, drop=8),
                Col("failure_count", "fails", 5, drop=3), Col("next_poll_at", "next poll", 16, drop=5),
                Col("polling_by", "polling now", 40, shrink=8, drop=2), Col("last_error", "last error", 300, shrink=20, drop=9),
                Col("warnings", "warnings", 300, shrink=20, drop=6)]


RUN_FIELDS = ("id", "source", "kind", "status", "started_at", "finished_at", "seconds", "fetched", "inserted", "updated",
              "rejected", "drafted", "error", "problems")
RUN_TABLE = [Col("id", "id", 10), Col("source", "source", 100, shrink=8), Col("kind", "kind", 8, drop=3),
             Col("status", "status", 9), Col("started_at", "started", 16, drop=7), Col("seconds", "s", 8, drop=1),
             Col("inserted", "new", 7, drop=6), Col("updated", "changed", 7, drop=5), Col("rejected", "skipped", 7, drop=4),
             Col("drafted", "drafts", 6, drop=2), Col("error", "error", 300, shrink=20)]


@cli.command()
@click.option("--source", "names", multiple=True, metavar="NAME", help="Poll this source now, due or not (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Poll every enabled source now, due or not.")
@click.option("-v", "--verbose", is_flag=True, help="Print a summary line per source even when not on a terminal.")
@click.pass_obj
def poll(state: State, names: tuple[str, ...], everything: bool, verbose: bool) -> None:
    """Fetch new and changed reviews from the sources that are due (or those named).

    Made for cron: safe to start while another poll or a worker runs (each source is
    polled by one process at a time; the others are left to it), quiet on success when
    run unattended, failures to stderr with exit code 1, one line per failed source (its
    log record too if asked for with --log-level or --log-format). The other sources are
    still polled.
    """
    from service.cli.progress import poll_progress
    from service.polling.poll import OUTCOMES
    from service.polling.processes import PollProcessFailed, poll_on_all_cores

    if names and everything:
        raise click.UsageError("give --source or --all, not both")
    if not state.logs_asked:
        logs.leave_out(OUTCOMES)  # each failed source is said in words below
    ctx = state.context()
    broken: PollProcessFailed | None = None
    with poll_progress(enabled=sys.stderr.isatty()) as progress:
        try:
            results = poll_on_all_cores(ctx, list(names) or None, due_only=not (names or everything), progress=progress)
        except PollProcessFailed as exc:  # report what the other processes polled, then fail
            broken, results = exc, exc.results
    show = verbose or sys.stdout.isatty()
    if show and not results:
        click.echo("no source is due (see `reviewmon sources` for when each one is; --all polls them now)")
    for result in results:
        if result.busy:
            click.echo(f"{result.name}: skipped, another process is polling it ({result.busy})", err=not show)
            continue
        _echo_run(result, "ok" if result.ok else "FAILED", show=show)
        if not result.ok:
            click.echo(f"{result.name}: poll failed: {output.visible(result.error)}", err=True)
    failed = [r.name for r in results if not r.ok]
    if failed and show:  # unattended, the lines above are all cron needs to mail
        click.echo(f"reviewmon: {len(failed)} of {len(results)} sources failed: {', '.join(failed)}", err=True)
    if broken is not None:
        click.echo(f"reviewmon: {output.visible(str(broken))}; the sources it had taken are polled again after their "
                   "leases lapse", err=True)
    if failed or broken is not None:
        sys.exit(1)


def _echo_run(result: Any, outcome: str, *, show: bool) -> None:
    """A poll's or a backfill's summary line (when shown), and the rows it skipped (always)."""
    if show:
        c = result.counts
        click.echo(
            f"{result.name}: {outcome}, {result.fetched} read, {c.inserted} new, {c.updated} changed, "
            f"{c.unchanged} unchanged, {result.rejected} rejected, {c.drafted} drafted ({result.seconds:.1f}s)"
        )
    for problem in result.problems[:20]:
        click.echo(f"{result.name}: skipped {output.visible(problem)}", err=True)
    if len(result.problems) > 20:
        click.echo(f"{result.name}: ... and {len(result.problems) - 20} more rows skipped (see `reviewmon sources`)", err=True)


@cli.command("backfill")
@click.option("--source", "name", required=True, metavar="NAME", help="The source whose history to read.")
@click.option("--restart", is_flag=True, help="Start again from the beginning instead of resuming an interrupted backfill.")
@click.pass_obj
def backfill_command(state: State, name: str, restart: bool) -> None:
    """Read a source's whole history, as far back as its platform lists it.

    Resumable: run it again after an interruption (a crash, Ctrl-C, an error) and it goes
    on after the last page it stored. No alerts are sent for the history it brings in.
    Refused (exit 1) for platforms that show only a few recent reviews, and while another
    process is polling the source.
    """
    from service.cli.progress import poll_progress
    from service.polling import backfill as backfill_module

    ctx = state.context()
    with poll_progress(enabled=sys.stderr.isatty()) as progress:
        result = asyncio.run(backfill_module.backfill(ctx, name, progress=progress, restart=restart))
    if result.history:
        click.echo(f"{name}: reaches {result.history}")
    started = backfill_module.describe(result.resumed_from) if result.resumed_from else "the start"
    _echo_run(result, f"{'done' if result.ok else 'STOPPED'}, from {started}: {result.pages} pages", show=True)
    if not result.ok:
        click.echo(f"{name}: backfill stopped: {output.visible(result.error)}", err=True)
        click.echo(f"{name}: run `reviewmon backfill --source {name}` again to resume at "
                   f"{backfill_module.describe(result.resume_at)}", err=True)
        sys.exit(1)


@cli.command()
@click.pass_obj
def rescore(state: State) -> None:
    """Score and mark every stored review again (after changing [sentiment] or [escalation]),
    and check every waiting or approved draft again with the guard as it is now: an
    approved draft that fails it goes back to drafted, with the reasons in its history."""
    from service.desk.recheck import recheck_drafts
    from service.polling.ingest import rescore as rescore_all

    ctx = state.context()
    counts = rescore_all(ctx)
    click.echo(f"{counts.updated} reviews scored again, {counts.drafted} new drafts")
    checked = recheck_drafts(ctx)
    click.echo(f"{checked.checked} drafts checked again: {checked.now_failing} newly fail the guard, "
               f"{checked.unapproved} of them were approved and are back to drafted")


@cli.group(invoke_without_command=True)
@format_option
@click.pass_context
def sources(click_ctx: click.Context, fmt: str) -> None:
    """The sources: health, last success, last error, consecutive failures, warnings."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.obj.context()
    with ctx.session() as session:
        output.emit(queries.source_rows(session, ctx.config), fmt, table_columns=SOURCE_TABLE, fields=SOURCE_FIELDS)


@sources.command("purge")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask (for scripts).")
@click.pass_obj
def sources_purge(state: State, name: str, yes: bool) -> None:
    """Delete a source that is no longer in the config, with all its reviews, drafts and
    their history, alerts and runs. Asks first, unless --yes."""
    from service.desk import purge

    ctx = state.context()
    with ctx.session() as session:
        found = purge.what_purge_deletes(session, ctx.config, name)
    question = (f"Delete source {name!r} for good, with its {found.reviews} reviews, {found.drafts} drafts "
                f"and {found.runs} runs?")
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"{question} Not asked without a terminal: add --yes to delete them.")
        click.confirm(question, abort=True)
    with ctx.session(write=True) as session:
        done = purge.purge_source(session, ctx.config, name)
    click.echo(f"deleted source {name!r}: {done.reviews} reviews, {done.drafts} drafts, {done.runs} runs")


@cli.command()
@click.option("--source", metavar="NAME", help="Only this source's runs.")
@click.option("--kind", type=click.Choice([k.value for k in RunKind]), help="Only polls, or only backfills.")
@click.option("--failed", is_flag=True, help="Only the runs that failed.")
@format_option
@limit_option
@click.pass_obj
def runs(state: State, source: str | None, kind: str | None, failed: bool, fmt: str, limit: int | None) -> None:
    """Past polls and backfills, newest first: what each fetched, stored and drafted, or why it failed."""
    ctx = state.context()
    with ctx.session() as session:
        rows = queries.run_rows(session, source=source, kind=kind, failed=failed, limit=table_limit(fmt, limit))
        output.emit(rows, fmt, table_columns=RUN_TABLE, fields=RUN_FIELDS)
