"""API tokens for programs (README, "API"): `tokens add`, `tokens list`, `tokens revoke`.
"""

from __future__ import annotations

import click

from service import output
from service.output import Col
from service.cli.base import State, cli, format_option

TOKEN_FIELDS = ("name", "role", "created_at", "created_by", "last_used_at", "revoked", "revoked_at")
TOKEN_TABLE = [Col("name", "name", 64), Col("role", "role", 9), Col("created_at", "created", 16, drop=3),
               Col("created_by", "by", 60, shrink=6, drop=1), Col("last_used_at", "last used", 16, drop=2),
               Col("revoked_at", "revoked", 16)]


@cli.group()
def tokens() -> None:
    """Tokens for programs using the JSON API (/api/v1), apart from people's passwords."""


@tokens.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["owner", "marketer"]),
              help="marketer: reads; owner: also edits, approves and rejects drafts.")
@click.pass_obj
def tokens_add(state: State, name: str, role: str) -> None:
    """Make a token and print it, once: reviewmon keeps only its hash."""
    from service.desk import tokens as tokens_module

    secret = tokens_module.add_token(state.context(), name, role, actor=state.user)
    click.echo(secret)  # alone on stdout, for a script to capture
    click.echo(f"token {name} ({role}) made: copy it now, it is not shown again. Programs send "
               "'Authorization: Bearer TOKEN'; the drafts' history names its actions token:" + name.strip(), err=True)


@tokens.command("list")
@format_option
@click.pass_obj
def tokens_list(state: State, fmt: str) -> None:
    """Every token (never its secret): role, when made and by whom, last used, revoked."""
    from service.desk import tokens as tokens_module

    output.emit(tokens_module.list_tokens(state.context(), actor=state.user), fmt, table_columns=TOKEN_TABLE,
                fields=TOKEN_FIELDS)


@tokens.command("revoke")
@click.argument("name")
@click.pass_obj
def tokens_revoke(state: State, name: str) -> None:
    """Stop a token at once. It stays listed, and its name is not given to another."""
    from service.desk import tokens as tokens_module

    tokens_module.revoke_token(state.context(), name, actor=state.user)
    click.echo(f"token {name} revoked")
