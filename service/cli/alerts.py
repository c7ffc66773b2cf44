"""`reviewmon alerts ...`: the outbox, sending, test messages and reports.
"""

from __future__ import annotations

import sys

import click

from service import output
from service.output import Col
from service.cli.base import State, cli, format_option, limit_option, table_limit
from service.desk import queries

ALERT_TABLE = [Col("id", "id", 10), Col("channel", "channel", 60, shrink=8, drop=3), Col("event", "event", 16, drop=4),
               Col("status", "status", 8), Col("attempts", "tries", 5, drop=1), Col("created_at", "recorded", 16, drop=5),
               Col("title", "title", 300, shrink=20), Col("last_error", "last error", 300, shrink=20, drop=2)]


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
        removed = queries.removed_sources(session, ctx.config)
        output.emit(alert_rows(session, status=status, limit=table_limit(fmt, limit), leave_out=removed), fmt,
                    table_columns=ALERT_TABLE, fields=ALERT_FIELDS)
    if note := queries.left_out_note(removed):
        click.echo(note, err=True)  # beside the table, never inside JSON or CSV


@alerts.command("send")
@click.pass_obj
def alerts_send(state: State) -> None:
    """Record alerts for drafts waiting too long, repeated failed logins and reports that
    are due, then send every alert that is due now. Exit 1 if any could not be sent (it is retried later)."""
    from service.alerts import deliver, enqueue, reports

    ctx = state.context()
    now = ctx.clock()
    with ctx.session(write=True) as session:
        enqueue.waiting_drafts(session, ctx.config, now)
        enqueue.failed_logins(session, ctx.config, now)
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
