"""Reading the stored reviews (`reviews list`, `reviews show`) and asking how a text
would be read (`sentiment check`).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from service import output
from service.cli.base import REVIEW_ID, State, cli, format_option, limit_option, read_text, table_limit
from service.output import Col
from service.desk import queries

REVIEW_TABLE = [Col("id", "id", 10), Col("source", "source", 100, shrink=8, drop=3), Col("rating", "★", 2),
                Col("negative", "neg", 4, drop=4), Col("sentiment", "vader", 6, drop=1),
                Col("author", "author", 60, shrink=8, drop=2), Col("created_at", "written", 16, drop=5),
                Col("text", "text", 300, shrink=30)]


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
                                   rating=rating, search=search, limit=table_limit(fmt, limit))
        output.emit(rows, fmt, table_columns=REVIEW_TABLE, fields=queries.REVIEW_FIELDS)


@reviews.command("show")
@click.argument("review_id", type=REVIEW_ID)
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
                "title", "text", "translation", "owner_reply", "owner_reply_state"):
        click.echo(f"{key:>12}: {output.visible(row[key])}")
    for index, old in enumerate(row["revision_history"], start=1):
        click.echo(f"  revision {index} (replaced {output.visible(old['replaced_at'])}): rating {old['rating']}: {output.visible(old['text'], 200)}")


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
    from service.reading.sentiment import scorer_of

    ctx = state.context(check_schema=False)
    verdict = scorer_of(ctx).score(text=read_text(text, file, what="review"), title=title, rating=rating)
    row = {"negative": verdict.negative, "sentiment": verdict.compound, "language": verdict.language, "reason": verdict.reason}
    if fmt == "json":
        output.write_json([row], sys.stdout)
        return
    for key, value in row.items():
        click.echo(f"{key:>9}: {output.visible(value)}")
