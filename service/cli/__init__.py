"""The `reviewmon` command line: one click group (base.py), one module per command group.
A thin caller of the service layer: no rule lives here. May import every stage.

Importing this package registers every command; `main` is the console entry point.
"""

from __future__ import annotations

import sys

import click

from service.cli import alerts, dbcmd, drafts, polling, reviews, running, tokens, trends, users  # noqa: F401 (registers the commands)
from service.cli.base import cli
from service.errors import PolicyViolation, ReviewmonError

__all__ = ["cli", "main"]


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
