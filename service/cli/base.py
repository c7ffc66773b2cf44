"""Shared by every command module: the `reviewmon` click group, the per-invocation
State (config and context opened once), the output options and small input helpers.

Exit codes: 0 success; 1 something failed (a source could not be polled, a reply fails
the policy guard, no such draft); 2 reviewmon cannot run as configured (bad config,
missing secret, database not migrated) or the command line itself is wrong.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from service import __version__, logs, output
from service import config as config_module
from service.context import Context
from service.errors import NotFound
from service.models import MAX_ID

if TYPE_CHECKING:
    from service.desk.users import Actor

TABLE_LIMIT = 50


@dataclass
class State:
    config_path: str | None
    user: str  # --user, $REVIEWMON_USER or the login name
    log_level: str | None = None  # as given on the command line; None: each command's default
    logs_asked: bool = False  # --log-level or --log-format given: every record, even those a command says in words
    _ctx: Context | None = field(default=None, repr=False)

    def context(self, *, check_schema: bool = True) -> Context:
        if self._ctx is None:
            self._ctx = Context.open(config_module.load(self.config_path), check_schema=check_schema)
        return self._ctx

    def actor(self) -> Actor:
        """Who acts, for the commands that change drafts: the account named by --user, with
        its role (the web app's rules apply), or, before any account exists, that name.
        Asked only when acting, so that cron and reading commands need no account."""
        from service.desk.users import acting_as

        return acting_as(self.context(), self.user)


def _default_actor() -> str:
    try:
        return os.environ.get("REVIEWMON_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "cli"


class RowId(click.ParamType):
    """A draft's or a review's id. A number no row can have (too big for the database's
    column) is "no such draft" (exit 1) before any query, never a database error."""

    name = "ID"

    def __init__(self, what: str):
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = click.INT.convert(value, param, ctx)
        if not 1 <= number <= MAX_ID:
            raise NotFound(f"no {self.what} with id {number}")
        return number


DRAFT_ID, REVIEW_ID = RowId("draft"), RowId("review")

format_option = click.option("--format", "fmt", type=click.Choice(output.FORMATS), default="table", show_default=True)


limit_option = click.option("--limit", type=click.IntRange(min=1, max=MAX_ID), help="At most this many rows (tables show 50 unless told).")


def table_limit(fmt: str, limit: int | None) -> int | None:
    return limit if limit is not None or fmt != "table" else TABLE_LIMIT


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reviewmon")
@click.option("--config", "config_path", metavar="PATH", help="Config file (default: $REVIEWMON_CONFIG, else ./config.toml).")
@click.option("--user", default=_default_actor, show_default="$REVIEWMON_USER or your login",
              help="Who acts on drafts: once accounts exist, an enabled account, whose role applies; before, a name for the drafts' history.")
@click.option("--log-level", type=click.Choice(logs.LEVELS), help="info: one line per polled source and per skipped row. Default: warning; info for serve and worker.")
@click.option("--log-format", type=click.Choice(logs.FORMATS), default="auto", show_default=True, help="auto: text on a terminal, JSON lines otherwise.")
@click.pass_context
def cli(click_ctx: click.Context, config_path: str | None, user: str, log_level: str, log_format: str) -> None:
    """Watch what customers say about a business online, and answer well."""
    logs.configure(log_level or "warning", log_format)
    asked = log_level is not None or click_ctx.get_parameter_source("log_format") is not ParameterSource.DEFAULT
    state = State(config_path=config_path, user=user, log_level=log_level, logs_asked=asked)
    click_ctx.obj = state
    click_ctx.call_on_close(lambda: state._ctx and state._ctx.close())


def read_text(text: str | None, file: Any, *, what: str = "reply") -> str:
    if (text is None) == (file is None):
        raise click.UsageError(f"give the {what} with --text or --file (use --file - for standard input)")
    return text if text is not None else file.read()
