"""The `reviewmon` command line. A thin caller of the service layer: no rule lives here.

Exit codes: 0 success; 1 something failed (a source could not be polled, a reply fails
the policy guard, no such draft); 2 reviewmon cannot run as configured (bad config,
missing secret, database not migrated) or the command line itself is wrong.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from service import __version__, approvals, db, logs, output, queries, trends
from service import config as config_module
from service.config import read_secret
from service.context import Context
from service.errors import PolicyViolation, ReviewmonError
from service.models import DraftStatus, FollowUp, Role, RunKind

TABLE_LIMIT = 50

REVIEW_TABLE = [("id", "id", 6), ("source", "source", 16), ("rating", "★", 2), ("negative", "neg", 4),
                ("sentiment", "vader", 6), ("author", "author", 16), ("created_at", "written", 16),
                ("text", "text", 60)]
DRAFT_FIELDS = ("id", "review_id", "source", "external_id", "status", "text", "policy_ok", "policy_problems",
                "template", "created_at", "updated_at", "edited_by", "posted_at", "platform_reply_id",
                "platform_state", "post_error", "confirmed_at")
DRAFT_TABLE = [("id", "id", 6), ("review_id", "review", 6), ("source", "source", 16), ("status", "status", 9),
               ("policy_ok", "ok", 3), ("rating", "★", 2), ("text", "draft", 70)]
TREND_FIELDS = ("bucket", "start", "end", "reviews", "rated", "mean_rating", "negative", "negative_share", "responded",
                "response_rate", "replies_timed", "median_reply_hours")
TREND_FIGURES = [("reviews", "reviews", 7), ("mean_rating", "mean ★", 6), ("negative", "neg", 5),
                 ("negative_share", "neg %", 6), ("responded", "answered", 8), ("response_rate", "ans %", 6),
                 ("median_reply_hours", "reply h", 7)]
TREND_SUMMARY = [("reviews", "reviews", 7), ("mean_rating", "mean ★", 6), ("negative_share", "neg %", 6),
                 ("response_rate", "ans %", 6), ("median_reply_hours", "reply h", 7)]
FOLLOWUP_FIELDS = ("draft_id", "review_id", "source", "author", "rating", "approved_at", "status", "followup",
                   "followup_note", "followup_at", "days_open")
INBOX_FIELDS = ("review_id", "draft_id", "source", "platform", "rating", "author", "title", "text", "url", "location",
                "written_at", "negative", "escalation", "triage", "draft_status", "draft_text", "policy_ok", "policy_problems")
SOURCE_FIELDS = ("name", "type", "status", "schedule", "reviews", "last_polled_at", "last_success_at", "last_error",
                 "failure_count", "failing_since", "next_poll_at", "polling_by", "backfill", "warnings")
SOURCE_TABLE = [("name", "name", 16), ("type", "type", 12), ("status", "status", 12), ("reviews", "reviews", 7),
                ("last_success_at", "last success", 16), ("failure_count", "fails", 5), ("next_poll_at", "next poll", 16),
                ("polling_by", "polling now", 14), ("last_error", "last error", 40), ("warnings", "warnings", 40)]

RUN_FIELDS = ("id", "source", "kind", "status", "started_at", "finished_at", "seconds", "fetched", "inserted", "updated",
              "rejected", "drafted", "error", "problems")
RUN_TABLE = [("id", "id", 6), ("source", "source", 16), ("kind", "kind", 8), ("status", "status", 7),
             ("started_at", "started", 16), ("seconds", "s", 6), ("inserted", "new", 5),
             ("updated", "changed", 7), ("rejected", "skipped", 7), ("drafted", "drafts", 6), ("error", "error", 50)]


@dataclass
class State:
    config_path: str | None
    actor: str
    log_level: str | None = None  # as given on the command line; None: each command's default
    _ctx: Context | None = field(default=None, repr=False)

    def context(self, *, check_schema: bool = True) -> Context:
        if self._ctx is None:
            self._ctx = Context.open(config_module.load(self.config_path), check_schema=check_schema)
        return self._ctx


def _default_actor() -> str:
    try:
        return os.environ.get("REVIEWMON_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "cli"


format_option = click.option("--format", "fmt", type=click.Choice(output.FORMATS), default="table", show_default=True)
limit_option = click.option("--limit", type=click.IntRange(min=1), help="At most this many rows (tables show 50 unless told).")


def _table_limit(fmt: str, limit: int | None) -> int | None:
    return limit if limit is not None or fmt != "table" else TABLE_LIMIT


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reviewmon")
@click.option("--config", "config_path", metavar="PATH", help="Config file (default: $REVIEWMON_CONFIG, else ./config.toml).")
@click.option("--user", "actor", default=_default_actor, show_default="$REVIEWMON_USER or your login", help="Who is acting, for the drafts' history.")
@click.option("--log-level", type=click.Choice(logs.LEVELS), help="info: one line per polled source and per skipped row. Default: warning; info for serve and worker.")
@click.option("--log-format", type=click.Choice(logs.FORMATS), default="auto", show_default=True, help="auto: text on a terminal, JSON lines otherwise.")
@click.pass_context
def cli(click_ctx: click.Context, config_path: str | None, actor: str, log_level: str, log_format: str) -> None:
    """Watch what customers say about a business online, and answer well."""
    logs.configure(log_level or "warning", log_format)
    state = State(config_path=config_path, actor=actor, log_level=log_level)
    click_ctx.obj = state
    click_ctx.call_on_close(lambda: state._ctx and state._ctx.close())


@cli.command()
@click.pass_obj
def migrate(state: State) -> None:
    """Create or upgrade the database schema (safe to run any time)."""
    ctx = state.context(check_schema=False)
    before, after = db.migrate(ctx.engine)
    where = ctx.engine.url.render_as_string(hide_password=True)
    click.echo(f"{where}: already at schema {after}" if before == after else f"{where}: migrated from {before or 'empty'} to {after}")


@cli.command()
@click.option("--source", "names", multiple=True, metavar="NAME", help="Poll this source now, due or not (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Poll every enabled source now, due or not.")
@click.option("-v", "--verbose", is_flag=True, help="Print a summary line per source even when not on a terminal.")
@click.pass_obj
def poll(state: State, names: tuple[str, ...], everything: bool, verbose: bool) -> None:
    """Fetch new and changed reviews from the sources that are due (or those named).

    Made for cron: safe to start while another poll or a worker runs (each source is
    polled by one process at a time; the others are left to it), quiet on success when
    run unattended, failures to stderr with exit code 1. The other sources are still polled.
    """
    from service.poll_processes import PollProcessFailed, poll_on_all_cores
    from service.progress import poll_progress

    if names and everything:
        raise click.UsageError("give --source or --all, not both")
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
    if failed:
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
    from service import backfill as backfill_module
    from service.progress import poll_progress

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
@click.option("--metrics-port", type=int, metavar="PORT", help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics.")
@click.pass_obj
def worker(state: State, metrics_port: int | None) -> None:
    """Run the scheduler alone: poll sources as they fall due, send alerts (no web app).

    Start as many as you like, on one machine or several, on one PostgreSQL database:
    they share the due sources. Stops cleanly on SIGTERM or Ctrl-C.
    """
    from service.worker import run_until_stopped

    _long_running(state)
    ctx = state.context()
    if metrics_port:
        from prometheus_client import start_http_server

        from service import health, metrics

        metrics.REGISTRY.register(health.DatabaseCollector(ctx))
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.REGISTRY)
    click.echo(f"reviewmon: worker started for {len(ctx.config.sources)} sources (Ctrl-C to stop)", err=True)
    asyncio.run(_until_signalled(lambda stop: run_until_stopped(ctx, stop)))


def _long_running(state: State) -> None:
    """For `serve` and `worker`. A service's log is its record: one line per poll of a
    source unless told otherwise; and `kill -USR1 PID` prints every thread's stack."""
    import faulthandler
    import signal

    if state.log_level is None:
        logs.set_level("info")
    faulthandler.register(signal.SIGUSR1)


async def _until_signalled(main: Any) -> None:
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await main(stop)


@cli.command()
@click.option("--host", help="Listen on this address (default: [web] host).")
@click.option("--port", type=int, help="Listen on this port (default: [web] port).")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True, help="Also poll sources as they fall due and send alerts, as `reviewmon worker` does.")
@click.pass_obj
def serve(state: State, host: str | None, port: int | None, scheduler: bool) -> None:
    """Serve the web app (inbox, draft editor, trends, /healthz, /metrics) and, unless
    --no-scheduler, the scheduler."""
    import uvicorn

    from service.web import create_app

    _long_running(state)
    ctx = state.context()
    web = ctx.config.web
    secret = read_secret(web.secret_key_env, key="web.secret_key_env") if web.secret_key_env else None
    if secret is None:
        click.echo("note: [web] secret_key_env is not set: sessions end when reviewmon restarts", err=True)
    host, port = host or web.host, port or web.port
    click.echo(f"reviewmon: serving http://{host}:{port}")
    uvicorn.run(create_app(ctx, secret_key=secret, scheduler=scheduler), host=host, port=port, log_level="warning")


@cli.command()
@click.pass_obj
def rescore(state: State) -> None:
    """Score and mark every stored review again (after changing [sentiment] or [escalation])."""
    from service.ingest import rescore as rescore_all
    counts = rescore_all(state.context())
    click.echo(f"{counts.updated} reviews scored again, {counts.drafted} new drafts")


@cli.command()
@format_option
@click.pass_obj
def sources(state: State, fmt: str) -> None:
    """The sources: health, last success, last error, consecutive failures, warnings."""
    ctx = state.context()
    with ctx.session() as session:
        output.emit(queries.source_rows(session, ctx.config), fmt, table_columns=SOURCE_TABLE, fields=SOURCE_FIELDS)


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
        rows = queries.run_rows(session, source=source, kind=kind, failed=failed, limit=_table_limit(fmt, limit))
        output.emit(rows, fmt, table_columns=RUN_TABLE, fields=RUN_FIELDS)


@cli.group()
def reviews() -> None:
    """Read the stored reviews."""


@reviews.command("list")
@click.option("--negative", is_flag=True, help="Only reviews flagged negative.")
@click.option("--source", metavar="NAME")
@click.option("--location", metavar="NAME", help="Only reviews of this location.")
@click.option("--rating", type=click.IntRange(1, 5), help="Only reviews with this many stars.")
@click.option("--search", metavar="WORDS", help="Only reviews whose title or text holds each of these words (any case, any order).")
@format_option
@limit_option
@click.pass_obj
def reviews_list(state: State, negative: bool, source: str | None, location: str | None, rating: int | None,
                 search: str | None, fmt: str, limit: int | None) -> None:
    """Reviews, newest first."""
    ctx = state.context()
    with ctx.session() as session:
        rows = queries.review_rows(session, negative=True if negative else None, source=source, location=location,
                                   rating=rating, search=search, limit=_table_limit(fmt, limit))
        output.emit(rows, fmt, table_columns=REVIEW_TABLE, fields=queries.REVIEW_FIELDS)


@reviews.command("show")
@click.argument("review_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def reviews_show(state: State, review_id: int, fmt: str) -> None:
    """One review in full, with why it was (not) flagged and its earlier versions."""
    ctx = state.context()
    with ctx.session() as session:
        row = queries.review(session, review_id)
    if fmt == "json":
        output.write_json([row], sys.stdout)
        return
    for key in ("id", "source", "external_id", "rating", "author", "location", "created_at", "updated_at", "url",
                "removed_at", "excerpt", "language", "negative", "sentiment", "reason", "escalation", "triage", "draft_id",
                "title", "text", "translation", "owner_reply"):
        click.echo(f"{key:>12}: {output.visible(row[key])}")
    for index, old in enumerate(row["revision_history"], start=1):
        click.echo(f"  revision {index} (replaced {output.visible(old['replaced_at'])}): rating {old['rating']}: {output.visible(old['text'], 200)}")


@cli.group()
def drafts() -> None:
    """Read, edit, approve or reject the drafted public replies."""


@drafts.command("list")
@click.option("--status", type=click.Choice([s.value for s in DraftStatus]))
@click.option("--source", metavar="NAME")
@format_option
@limit_option
@click.pass_obj
def drafts_list(state: State, status: str | None, source: str | None, fmt: str, limit: int | None) -> None:
    """Drafts, oldest waiting first."""
    ctx = state.context()
    with ctx.session() as session:
        rows = queries.draft_rows(session, status=status, source=source, limit=_table_limit(fmt, limit))
        output.emit(rows, fmt, table_columns=DRAFT_TABLE, fields=DRAFT_FIELDS)


@drafts.command("show")
@click.argument("draft_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def drafts_show(state: State, draft_id: int, fmt: str) -> None:
    """A draft with the review it answers, the guard's verdict and its history."""
    ctx = state.context()
    with ctx.session() as session:
        row = queries.draft(session, draft_id)
    if fmt == "json":
        output.write_json([{k: row[k] for k in (*DRAFT_FIELDS, "history")}], sys.stdout)
        return
    click.echo(f"draft {row['id']} ({row['status']}) for review {row['review_id']} on {row['source']}")
    click.echo(f"review by {output.visible(row['author']) or '(no name)'}, rating {row['rating'] or '-'}: {output.visible(row['review_text'], 400)}")
    click.echo("\n" + output.visible(row["text"].replace("\n", "\0")).replace("\\x00", "\n") + "\n")
    _echo_verdict(row["policy_ok"], row["policy_problems"])
    for event in row["history"]:
        detail = f" — {output.visible(event['detail'])}" if event["detail"] else ""
        click.echo(f"  {output.visible(event['at'])}  {event['actor']}: {event['action']} -> {event['status']}{detail}")


def _echo_verdict(ok: bool, problems: list[str]) -> None:
    if ok:
        click.echo("policy guard: passes")
    else:
        click.echo("policy guard: FAILS", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)


def _read_text(text: str | None, file: Any, *, what: str = "reply") -> str:
    if (text is None) == (file is None):
        raise click.UsageError(f"give the {what} with --text or --file (use --file - for standard input)")
    return text if text is not None else file.read()


@drafts.command("edit")
@click.argument("draft_id", type=int)
@click.option("--text", help="The new reply text.")
@click.option("--file", type=click.File("r", encoding="utf-8"), help="Read the new text from a file ('-' for stdin).")
@click.pass_obj
def drafts_edit(state: State, draft_id: int, text: str | None, file: Any) -> None:
    """Replace a draft's text. Saved even when it fails the guard; then exit 1 with the reasons."""
    verdict = approvals.edit(state.context(), draft_id, _read_text(text, file), actor=state.actor)
    click.echo(f"draft {draft_id} saved")
    _echo_verdict(verdict.ok, verdict.problems)
    if not verdict.ok:
        sys.exit(1)


@drafts.command("regenerate")
@click.argument("draft_id", type=int)
@click.pass_obj
def drafts_regenerate(state: State, draft_id: int) -> None:
    """Replace a draft's text with the next bundled wording."""
    verdict = approvals.regenerate(state.context(), draft_id, actor=state.actor)
    click.echo(f"draft {draft_id} reworded")
    _echo_verdict(verdict.ok, verdict.problems)


@drafts.command("followup")
@click.argument("draft_id", type=int)
@click.option("--outcome", required=True, type=click.Choice([f.value for f in FollowUp]))
@click.option("--note", help="What happened, for the record.")
@click.pass_obj
def drafts_followup(state: State, draft_id: int, outcome: str, note: str | None) -> None:
    """Record what happened off-line after the reply (contacted, resolved, no answer)."""
    approvals.record_followup(state.context(), draft_id, outcome, actor=state.actor, note=note)
    click.echo(f"draft {draft_id}: follow-up recorded ({outcome})")


@cli.command("followups")
@format_option
@click.pass_obj
def followups_command(state: State, fmt: str) -> None:
    """Unresolved cases whose reply was approved longer ago than [replies] followup_after."""
    ctx = state.context()
    with ctx.session() as session:
        rows = queries.open_followups(session, now=ctx.clock(), after=ctx.config.replies.followup_after)
        table = [("draft_id", "draft", 6), ("source", "source", 16), ("author", "reviewer", 16), ("rating", "★", 2),
                 ("days_open", "days", 5), ("followup", "follow-up", 10), ("followup_note", "note", 40)]
        output.emit(rows, fmt, table_columns=table, fields=FOLLOWUP_FIELDS)


@cli.command("inbox")
@click.option("--source", metavar="NAME")
@click.option("--location")
@click.option("--rating", type=click.IntRange(1, 5))
@click.option("--status", type=click.Choice([s.value for s in queries.INBOX_STATUSES]))
@format_option
@limit_option
@click.pass_obj
def inbox_command(state: State, source: str | None, location: str | None, rating: int | None, status: str | None,
                  fmt: str, limit: int | None) -> None:
    """Reviews that need an answer: escalated first, then negative, newest first."""
    ctx = state.context()
    with ctx.session() as session:
        rows = queries.inbox_rows(session, now=ctx.clock(), source=source, location=location, rating=rating,
                                  status=status, limit=_table_limit(fmt, limit))
        table = [("draft_id", "draft", 6), ("source", "source", 12), ("rating", "★", 2), ("escalation", "escalate", 14),
                 ("triage", "triage", 14), ("author", "reviewer", 14), ("waiting", "waiting", 10), ("text", "review", 50)]
        output.emit(({**r, "waiting": _age(r["waiting"])} for r in rows), fmt, table_columns=table, fields=INBOX_FIELDS)


def _age(delta: Any) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.0f}d"


@cli.group()
def users() -> None:
    """Accounts for the web app (owner, marketer, admin)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@click.pass_obj
def users_add(state: State, name: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is prompted for (or read from stdin)."""
    from service import users as users_module

    password = _read_password(password_stdin)
    users_module.add_user(state.context(), name, role, password)
    click.echo(f"user {name} added ({role})")


@users.command("first-owner")
@click.argument("name", default="owner")
@click.pass_obj
def users_first_owner(state: State, name: str) -> None:
    """If there is no user yet, create an owner with a random password and print it."""
    from service import users as users_module

    password = users_module.first_owner(state.context(), name)
    if password:
        click.echo(f"first owner account created: user name {name!r}, password {password!r} (change it: reviewmon users passwd {name})")
    else:
        click.echo("users exist already (reviewmon users list; a new password: reviewmon users passwd NAME)")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
@click.pass_obj
def users_passwd(state: State, name: str, password_stdin: bool) -> None:
    """Set a user's password (and lift a login lock)."""
    from service import users as users_module

    users_module.set_password(state.context(), name, _read_password(password_stdin))
    click.echo(f"password of {name} changed")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again.")
@click.pass_obj
def users_disable(state: State, name: str, enable: bool) -> None:
    """Stop (or allow again) a user's logins."""
    from service import users as users_module

    users_module.set_disabled(state.context(), name, not enable)
    click.echo(f"user {name} {'enabled' if enable else 'disabled'}")


@users.command("list")
@format_option
@click.pass_obj
def users_list(state: State, fmt: str) -> None:
    """The web app's users and their roles."""
    from service import users as users_module

    table = [("name", "name", 20), ("role", "role", 10), ("disabled", "disabled", 8), ("created_at", "created", 16)]
    output.emit(users_module.list_users(state.context()), fmt, table_columns=table, fields=("name", "role", "disabled", "created_at", "locked_until"))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@drafts.command("approve")
@click.argument("draft_id", type=int)
@click.pass_obj
def drafts_approve(state: State, draft_id: int) -> None:
    """Approve a draft for posting; refused when its text fails the policy guard."""
    approvals.approve(state.context(), draft_id, actor=state.actor)
    click.echo(f"draft {draft_id} approved")


@drafts.command("reject")
@click.argument("draft_id", type=int)
@click.option("--reason", help="Kept in the draft's history.")
@click.pass_obj
def drafts_reject(state: State, draft_id: int, reason: str | None) -> None:
    """Reject a draft: no reply will be posted from it."""
    approvals.reject(state.context(), draft_id, actor=state.actor, reason=reason)
    click.echo(f"draft {draft_id} rejected")


@drafts.command("post")
@click.argument("draft_ids", type=int, nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.pass_obj
def drafts_post(state: State, draft_ids: tuple[int, ...], dry_run: bool) -> None:
    """Post approved drafts (the named ones, else every approved one) to their platforms.

    The text is checked by the policy guard and the platform's length limit once more
    before any request. Where a platform takes no replies through its API, the text and
    the review's link are printed to post by hand (then use `drafts mark-posted`).
    A failed draft is retried only when named.
    """
    from service import posting

    results = asyncio.run(posting.post(state.context(), list(draft_ids) or None, actor=state.actor, dry_run=dry_run))
    for result in results:
        line = f"draft {result.draft_id}: {result.outcome}: {output.visible(result.message)}"
        click.echo(line, err=result.outcome in ("failed", "refused"))
        if result.outcome in ("manual", "would post"):
            click.echo(f"  review: {output.visible(result.url) or '(no link)'}\n  ---\n{result.text}\n  ---")
    if not results:
        click.echo("no approved drafts to post")
    if any(r.outcome in ("failed", "refused") for r in results):
        sys.exit(1)


@drafts.command("withdraw")
@click.argument("draft_id", type=int)
@click.pass_obj
def drafts_withdraw(state: State, draft_id: int) -> None:
    """Delete a posted reply from the platform (Google Business Profile, App Store Connect)."""
    from service import posting

    platform = asyncio.run(posting.withdraw(state.context(), draft_id, actor=state.actor))
    click.echo(f"draft {draft_id}: reply withdrawn from {platform}")


@drafts.command("mark-posted")
@click.argument("draft_id", type=int)
@click.pass_obj
def drafts_mark_posted(state: State, draft_id: int) -> None:
    """Record that you posted an approved reply yourself (platforms without a reply API)."""
    from service import posting

    posting.mark_posted(state.context(), draft_id, actor=state.actor)
    click.echo(f"draft {draft_id} marked posted")


@cli.group()
def policy() -> None:
    """The public-reply policy guard."""


@policy.command("check")
@click.option("--text", help="The reply text to check.")
@click.option("--file", type=click.File("r", encoding="utf-8"), help="Read the text from a file ('-' for stdin).")
@click.option("--source", metavar="NAME", help="Check against this source's platform limit.")
@click.pass_obj
def policy_check(state: State, text: str | None, file: Any, source: str | None) -> None:
    """Would this text be allowed as a public reply? Exit 1 with the reasons if not."""
    ctx = state.context(check_schema=False)
    source_type = ctx.config.source(source).type if source else None
    verdict = approvals.check_text(ctx, _read_text(text, file), source_type=source_type)
    _echo_verdict(verdict.ok, verdict.problems)
    if not verdict.ok:
        sys.exit(1)


@cli.group()
def sentiment() -> None:
    """The sentiment pass that flags negative reviews."""


@sentiment.command("check")
@click.option("--text", help="The review text to read.")
@click.option("--file", type=click.File("r", encoding="utf-8"), help="Read the text from a file ('-' for stdin).")
@click.option("--title", help="The review's title, read with its text.")
@click.option("--rating", type=click.IntRange(1, 5), help="The review's stars; without it the text alone decides.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def sentiment_check(state: State, text: str | None, file: Any, title: str | None, rating: int | None, fmt: str) -> None:
    """How would reviewmon read this review, and why? Nothing is stored."""
    ctx = state.context(check_schema=False)
    verdict = ctx.scorer.score(text=_read_text(text, file, what="review"), title=title, rating=rating)
    row = {"negative": verdict.negative, "sentiment": verdict.compound, "language": verdict.language, "reason": verdict.reason}
    if fmt == "json":
        output.write_json([row], sys.stdout)
        return
    for key, value in row.items():
        click.echo(f"{key:>9}: {output.visible(value)}")


@cli.command("trends")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="First day (UTC), e.g. 2026-09-01. Default: the start of the 12th bucket back.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE", help="Last day, included. Default: today (UTC).")
@click.option("--bucket", type=click.Choice(trends.BUCKETS), default="week", show_default=True)
@click.option("--source", metavar="NAME")
@click.option("--location", metavar="L")
@format_option
@click.pass_obj
def trends_command(state: State, start: Any, end: Any, bucket: str, source: str | None, location: str | None, fmt: str) -> None:
    """Reviews, mean rating, negative share, response rate and median reply time per day,
    week or month, by source and location, topics of negative reviews, and the change from
    the previous period of the same length. JSON: the whole report; CSV: one row per bucket."""
    import json

    ctx = state.context()
    last = end.date() if end else ctx.clock().date()
    first = start.date() if start else trends.default_start(last, bucket)
    if first > last:
        raise click.BadParameter(f"{first} is after {last}", param_hint="--from/--to")
    with ctx.session() as session:
        report = trends.report(session, start=first, end=last, bucket=bucket, source=source, location=location,
                               topics=ctx.config.topics.keywords)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    buckets = [b.to_dict() for b in report.buckets]
    if fmt == "csv":
        output.write_csv(buckets, TREND_FIELDS, sys.stdout)
        return

    def shown(row: dict[str, Any], change: bool = False) -> dict[str, Any]:
        """Shares as percentages (points for a change), '+' on changes, '–' for no value."""
        def cell(key: str, value: Any) -> str:
            if value is None:
                return "–"
            if key in ("negative_share", "response_rate", "share"):
                return f"{value * 100:+.1f}" if change else f"{value:.0%}"
            if isinstance(value, float):
                return f"{value:+.2f}" if change else f"{value:.2f}"
            return f"{value:+d}" if change and isinstance(value, int) else str(value)
        return {key: cell(key, value) for key, value in row.items()}

    def section(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str, int | None]]) -> None:
        click.echo(f"\n{title}")
        output.write_table(rows, columns)

    where = "".join(f", {name} {value}" for name, value in (("source", source), ("location", location)) if value)
    click.echo(f"{first} to {last} by {bucket}{where}; previous period {report.previous_start} to {report.previous_end}")
    section(f"per {bucket}", [shown(b) for b in buckets], [("start", f"{bucket} from", 10), *TREND_FIGURES])
    section("the period", [{"period": "this", **shown(report.totals.to_dict())},
                           {"period": "previous", **shown(report.previous.to_dict())},
                           {"period": "change", **shown(report.change.to_dict(), change=True)}],
            [("period", "", 8), *TREND_SUMMARY])
    for title, key, groups in (("by source", "source", report.by_source), ("by location", "location", report.by_location)):
        rows = [{key: g.name or "(none)", **shown(g.figures.to_dict()), "change": shown(g.change.to_dict(), change=True)["reviews"]}
                for g in groups]
        section(title, rows, [(key, key, 20), *TREND_SUMMARY, ("change", "Δ reviews", 9)])
    section("star ratings", [{"period": "this", **report.ratings}, {"period": "previous", **report.previous_ratings}],
            [("period", "", 8), *((str(n), "★" * n, 5) for n in range(1, 6)), ("none", "none", 5)])
    section("topics of negative reviews", [shown(t.to_dict()) | {"change": f"{t.change:+d}"} for t in report.topics],
            [("topic", "topic", 24), ("reviews", "reviews", 8), ("share", "of neg", 6), ("previous", "previous", 8),
             ("change", "change", 7)])
    click.echo("\nneg %: negative share; ans %: response rate; reply h: median hours to our posted reply; "
               "changes of shares are in percentage points.")
    click.echo("\n".join(f"note: {note}" for note in report.notes))


ALERT_TABLE = [("id", "id", 6), ("channel", "channel", 12), ("event", "event", 16), ("status", "status", 8),
               ("attempts", "tries", 5), ("created_at", "recorded", 16), ("title", "title", 50),
               ("last_error", "last error", 40)]


@cli.group()
def alerts() -> None:
    """Alerts to email, chat and webhooks ([alerts] channels): the outbox, sending, tests, reports."""


@alerts.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]))
@format_option
@limit_option
@click.pass_obj
def alerts_list(state: State, status: str | None, fmt: str, limit: int | None) -> None:
    """Alerts recorded for the channels, newest first."""
    from service.alerts.outbox import ALERT_FIELDS, alert_rows

    ctx = state.context()
    with ctx.session() as session:
        output.emit(alert_rows(session, status=status, limit=_table_limit(fmt, limit)), fmt, table_columns=ALERT_TABLE,
                    fields=ALERT_FIELDS)


@alerts.command("send")
@click.pass_obj
def alerts_send(state: State) -> None:
    """Record alerts for drafts waiting too long and reports that are due, then send every
    alert that is due now. Exit 1 if any could not be sent (it is retried later)."""
    from service.alerts import deliver, enqueue, reports

    ctx = state.context()
    now = ctx.clock()
    with ctx.session(write=True) as session:
        enqueue.waiting_drafts(session, ctx.config, now)
    reports.enqueue_due_reports(ctx, now)
    counts = deliver.deliver_due(ctx)
    if counts.messages or sys.stdout.isatty():
        click.echo(f"{counts.sent} alerts sent in {counts.messages} messages")
    if counts.failed:
        given_up = f", {counts.gave_up} of them for the last time" if counts.gave_up else ""
        click.echo(f"reviewmon: {counts.failed} alerts could not be sent{given_up}; "
                   "see `reviewmon alerts list --status pending`", err=True)
        sys.exit(1)


@alerts.command("test")
@click.argument("channel")
@click.pass_obj
def alerts_test(state: State, channel: str) -> None:
    """Send a test message to CHANNEL now; exit 1 with the reason if it fails."""
    from service.alerts import deliver

    ok, reason = deliver.send_test(state.context(), channel)
    if not ok:
        click.echo(f"reviewmon: {channel}: could not send: {output.visible(reason)}", err=True)
        sys.exit(1)
    click.echo(f"{channel}: test message sent")


@alerts.command("report")
@click.option("--period", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Write the HTML version to FILE instead of printing the text.")
@click.pass_obj
def alerts_report(state: State, period: str, html_file: str | None) -> None:
    """Show the report of the last complete day or week as it would be sent; sends nothing."""
    from pathlib import Path

    from service.alerts import reports

    ctx = state.context()
    message = reports.render_report(ctx, period, ctx.clock())
    if html_file:
        Path(html_file).write_text(message.body_html or "", encoding="utf-8")
        click.echo(f"wrote {html_file}")
    else:
        click.echo(message.body)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: service errors become one clear line and their exit code."""
    try:
        cli.main(args=argv, prog_name="reviewmon", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except PolicyViolation as exc:
        click.echo(f"reviewmon: {exc}", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(exc.exit_code)
    except ReviewmonError as exc:
        click.echo(f"reviewmon: error: {exc}", err=True)
        sys.exit(exc.exit_code)
