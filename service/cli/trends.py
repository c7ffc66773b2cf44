"""`reviewmon trends`: the marketers' numbers as tables, JSON or CSV.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from service import output
from service.cli.base import State, cli, format_option
from service.desk import queries
from service.trends import periods
from service.trends import reports as trend_reports

TREND_FIELDS = ("bucket", "start", "end", "reviews", "rated", "mean_rating", "negative", "negative_share", "responded",
                "response_rate", "replies_timed", "median_reply_hours")
TREND_FIGURES = [("reviews", "reviews", 7), ("mean_rating", "mean ★", 6), ("negative", "neg", 5),
                 ("negative_share", "neg %", 6), ("responded", "answered", 8), ("response_rate", "ans %", 6),
                 ("median_reply_hours", "reply h", 7)]


TREND_SUMMARY = [("reviews", "reviews", 7), ("mean_rating", "mean ★", 6), ("negative_share", "neg %", 6),
                 ("response_rate", "ans %", 6), ("median_reply_hours", "reply h", 7)]


@cli.command("trends")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="First day (UTC), e.g. 2026-09-01. Default: the start of the 12th bucket back.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE", help="Last day, included. Default: today (UTC).")
@click.option("--bucket", type=click.Choice(periods.BUCKETS), default="week", show_default=True)
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
    first = start.date() if start else periods.default_start(last, bucket)
    if first > last:
        raise click.BadParameter(f"{first} is after {last}", param_hint="--from/--to")
    with ctx.session() as session:
        report = trend_reports.report(session, start=first, end=last, bucket=bucket, source=source, location=location,
                                      topics=ctx.config.topics.keywords,
                                      leave_out=queries.removed_sources(session, ctx.config))
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
