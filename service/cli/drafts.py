"""The owners' desk from the command line: `drafts ...`, `inbox`, `followups` and
`policy check`. Every verdict comes from the one guard, through service.desk.approvals.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from service import output
from service.cli.base import DRAFT_ID, State, cli, format_option, limit_option, read_text, table_limit
from service.output import Col
from service.desk import approvals, queries, suspicious
from service.models import DraftStatus, FollowUp

DRAFT_FIELDS = ("id", "review_id", "source", "external_id", "status", "text", "policy_ok", "policy_problems",
                "template", "created_at", "updated_at", "edited_by", "posted_at", "platform_reply_id",
                "platform_state", "post_error", "confirmed_at")
DRAFT_TABLE = [Col("id", "id", 10), Col("review_id", "review", 10, drop=1), Col("source", "source", 100, shrink=8, drop=3),
               Col("status", "status", 9), Col("policy_ok", "ok", 3), Col("rating", "★", 2, drop=2),
               Col("text", "draft", 300, shrink=30)]
# Narrow terminals leave out triage first; the review's text, its escalation and stars stay.
INBOX_TABLE = [Col("draft_id", "draft", 10), Col("source", "source", 100, shrink=8, drop=3), Col("rating", "★", 2),
               Col("escalation", "escalate", 60, shrink=14, drop=5), Col("triage", "triage", 60, shrink=10, drop=1),
               Col("author", "reviewer", 60, shrink=8, drop=2), Col("waiting", "waiting", 10, drop=4),
               Col("text", "review", 300, shrink=40)]
# `inbox --suspicious`: where to report is shown whole or not at all (a link cut short is no link):
# narrow terminals leave out the reviewer first, then the draft, the source, and then the link
# (JSON has it); why it looks suspicious, the stars and the text stay.
SUSPICIOUS_TABLE = [Col("review_id", "review", 10), Col("source", "source", 100, shrink=8, drop=3), Col("rating", "★", 2),
                    Col("triage", "why suspicious", 60, shrink=14), Col("author", "reviewer", 60, shrink=8, drop=1),
                    Col("draft_id", "draft", 10, drop=2), Col("report", "report at", 300, drop=4),
                    Col("text", "review", 300, shrink=30)]
FOLLOWUP_TABLE = [Col("draft_id", "draft", 10), Col("source", "source", 100, shrink=8, drop=2),
                  Col("author", "reviewer", 60, shrink=8, drop=1), Col("rating", "★", 2, drop=3), Col("days_open", "days", 5),
                  Col("followup", "follow-up", 10), Col("followup_note", "note", 300, shrink=20)]


FOLLOWUP_FIELDS = ("draft_id", "review_id", "source", "author", "rating", "approved_at", "status", "followup",
                   "followup_note", "followup_at", "days_open")
SUSPICIOUS_FIELDS = ("review_id", "source", "platform", "rating", "author", "title", "text", "url", "location",
                     "written_at", "triage", "escalation", "draft_id", "draft_status", "report_url", "report_help",
                     "report_note")
INBOX_FIELDS = ("review_id", "draft_id", "source", "platform", "rating", "author", "title", "text", "url", "location",
                "written_at", "negative", "escalation", "triage", "draft_status", "draft_text", "policy_ok", "policy_problems")


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
        rows = queries.draft_rows(session, status=status, source=source, limit=table_limit(fmt, limit))
        output.emit(rows, fmt, table_columns=DRAFT_TABLE, fields=DRAFT_FIELDS)


@drafts.command("show")
@click.argument("draft_id", type=DRAFT_ID)
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
        click.echo(f"  {output.visible(event['at'])}  {output.visible(event['actor'])} {event['what']}{detail}")


def _echo_verdict(ok: bool, problems: list[str]) -> None:
    if ok:
        click.echo("policy guard: passes")
    else:
        click.echo("policy guard: FAILS", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)


@drafts.command("edit")
@click.argument("draft_id", type=DRAFT_ID)
@click.option("--text", help="The new reply text.")
@click.option("--file", type=click.File("r", encoding="utf-8"), help="Read the new text from a file ('-' for stdin).")
@click.pass_obj
def drafts_edit(state: State, draft_id: int, text: str | None, file: Any) -> None:
    """Replace a draft's text. Saved even when it fails the guard; then exit 1 with the reasons."""
    verdict = approvals.edit(state.context(), draft_id, read_text(text, file), actor=state.actor())
    click.echo(f"draft {draft_id} saved")
    _echo_verdict(verdict.ok, verdict.problems)
    if not verdict.ok:
        sys.exit(1)


@drafts.command("regenerate")
@click.argument("draft_id", type=DRAFT_ID)
@click.pass_obj
def drafts_regenerate(state: State, draft_id: int) -> None:
    """Replace a draft's text with the next bundled wording."""
    verdict = approvals.regenerate(state.context(), draft_id, actor=state.actor())
    click.echo(f"draft {draft_id} reworded")
    _echo_verdict(verdict.ok, verdict.problems)


@drafts.command("followup")
@click.argument("draft_id", type=DRAFT_ID)
@click.option("--outcome", required=True, type=click.Choice([f.value for f in FollowUp]))
@click.option("--note", help="What happened, for the record.")
@click.pass_obj
def drafts_followup(state: State, draft_id: int, outcome: str, note: str | None) -> None:
    """Record what happened off-line after the reply (contacted, resolved, no answer)."""
    approvals.record_followup(state.context(), draft_id, outcome, actor=state.actor(), note=note)
    click.echo(f"draft {draft_id}: follow-up recorded ({outcome})")


@cli.command("followups")
@format_option
@click.pass_obj
def followups_command(state: State, fmt: str) -> None:
    """Unresolved cases whose reply was approved longer ago than [replies] followup_after."""
    ctx = state.context()
    with ctx.session() as session:
        rows = queries.open_followups(session, now=ctx.clock(), after=ctx.config.replies.followup_after)
        output.emit(rows, fmt, table_columns=FOLLOWUP_TABLE, fields=FOLLOWUP_FIELDS)


@cli.command("inbox")
@click.option("--source", metavar="NAME")
@click.option("--location")
@click.option("--rating", type=click.IntRange(1, 5))
@click.option("--status", type=click.Choice([s.value for s in queries.INBOX_STATUSES]))
@click.option("--suspicious", "suspicious_only", is_flag=True,
              help="Instead: reviews that look like spam or a fake, whatever their rating, with where to report them.")
@format_option
@limit_option
@click.pass_obj
def inbox_command(state: State, source: str | None, location: str | None, rating: int | None, status: str | None,
                  suspicious_only: bool, fmt: str, limit: int | None) -> None:
    """Reviews that need an answer: escalated first, then negative, newest first.

    With --suspicious: the reviews with a triage mark (spam, a link, nothing specific, another
    reviewer's text), newest first, answered or not, with the review's link and the
    platform's help page on reporting a review (report_url, report_help in JSON)."""
    if suspicious_only and status:
        raise click.UsageError("--status narrows the reviews that need an answer; --suspicious lists reviews whatever their draft")
    ctx = state.context()
    with ctx.session() as session:
        removed = queries.removed_sources(session, ctx.config)
        if suspicious_only:
            marked = suspicious.suspicious_rows(session, source=source, location=location, rating=rating,
                                                limit=table_limit(fmt, limit), config=ctx.config, leave_out=removed)
            output.emit(({**r, "report": r["report_url"] or r["report_note"]} for r in marked), fmt,
                        table_columns=SUSPICIOUS_TABLE, fields=SUSPICIOUS_FIELDS)
        else:
            rows = queries.inbox_rows(session, now=ctx.clock(), source=source, location=location, rating=rating,
                                      status=status, limit=table_limit(fmt, limit), config=ctx.config, leave_out=removed)
            output.emit(({**r, "waiting": _age(r["waiting"])} for r in rows), fmt, table_columns=INBOX_TABLE,
                        fields=INBOX_FIELDS)
    if note := queries.left_out_note(removed):
        click.echo(note, err=True)  # beside the table, never inside JSON or CSV


def _age(delta: Any) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.0f}d"


@drafts.command("approve")
@click.argument("draft_id", type=DRAFT_ID)
@click.pass_obj
def drafts_approve(state: State, draft_id: int) -> None:
    """Approve a draft for posting; refused when its text fails the policy guard."""
    ctx = state.context()
    post_after = approvals.approve(ctx, draft_id, actor=state.actor())
    click.echo(f"draft {draft_id} approved: {approvals.when_it_can_go_out(post_after, ctx.clock())}")


@drafts.command("reject")
@click.argument("draft_id", type=DRAFT_ID)
@click.option("--reason", help="Kept in the draft's history.")
@click.pass_obj
def drafts_reject(state: State, draft_id: int, reason: str | None) -> None:
    """Reject a draft: no reply will be posted from it."""
    approvals.reject(state.context(), draft_id, actor=state.actor(), reason=reason)
    click.echo(f"draft {draft_id} rejected")


@drafts.command("post")
@click.argument("draft_ids", type=DRAFT_ID, nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.pass_obj
def drafts_post(state: State, draft_ids: tuple[int, ...], dry_run: bool) -> None:
    """Post approved drafts (the named ones, else every approved one) to their platforms.

    The text is checked by the policy guard and the platform's length limit once more
    before any request. Where a platform takes no replies through its API, the text and
    the review's link are printed to post by hand (then use `drafts mark-posted`).
    A failed draft is retried only when named.
    """
    from service.desk import posting

    results = asyncio.run(posting.post(state.context(), list(draft_ids) or None, actor=state.actor(), dry_run=dry_run))
    for result in results:
        line = f"draft {result.draft_id}: {result.outcome}: {output.visible(result.message)}"
        click.echo(line, err=result.outcome in ("failed", "refused") or (result.outcome == "waiting" and bool(draft_ids)))
        if result.outcome in ("manual", "would post"):
            click.echo(f"  review: {output.visible(result.url) or '(no link)'}\n  ---\n{result.text}\n  ---")
    if not results:
        click.echo("no approved drafts to post")
    if any(r.outcome in ("failed", "refused") or (r.outcome == "waiting" and draft_ids) for r in results):
        sys.exit(1)  # a draft named but still cooling off was not posted: say so in the exit code too


@drafts.command("withdraw")
@click.argument("draft_id", type=DRAFT_ID)
@click.pass_obj
def drafts_withdraw(state: State, draft_id: int) -> None:
    """Delete a posted reply from the platform (Google Business Profile, App Store Connect)."""
    from service.desk import posting

    platform = asyncio.run(posting.withdraw(state.context(), draft_id, actor=state.actor()))
    click.echo(f"draft {draft_id}: reply withdrawn from {platform}")


@drafts.command("mark-posted")
@click.argument("draft_id", type=DRAFT_ID)
@click.pass_obj
def drafts_mark_posted(state: State, draft_id: int) -> None:
    """Record that you posted an approved reply yourself (platforms without a reply API)."""
    from service.desk import posting

    posting.mark_posted(state.context(), draft_id, actor=state.actor())
    click.echo(f"draft {draft_id} marked posted")


@cli.group()
def policy() -> None:
    """The public-reply policy guard."""


@policy.command("check")
@click.option("--text", help="The reply text to check.")
@click.option("--file", type=click.File("r", encoding="utf-8"), help="Read the text from a file ('-' for stdin).")
@click.option("--source", metavar="NAME", help="Check as a reply to this source's reviews: its platform's limit, its contact channels.")
@click.pass_obj
def policy_check(state: State, text: str | None, file: Any, source: str | None) -> None:
    """Would this text be allowed as a public reply? Exit 1 with the reasons if not."""
    ctx = state.context(check_schema=False)
    source_type = ctx.config.source(source).type if source else None
    verdict = approvals.check_text(ctx, read_text(text, file), source_name=source, source_type=source_type)
    _echo_verdict(verdict.ok, verdict.problems)
    if not verdict.ok:
        sys.exit(1)
