"""`reviewmon db copy` and `reviewmon db backup`: taking the data along, and keeping a copy."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from sqlalchemy import make_url

from service import db, logs
from service.cli.base import State, cli
from service.errors import ConfigError, ReviewmonError


@cli.group("db")
def db_group() -> None:
    """Copy the database to another one, or back it up."""


@db_group.command("copy")
@click.option("--to-env", "to_env", required=True, metavar="NAME",
              help="The environment variable holding the target database's URL (as [database] url_env).")
@click.pass_obj
def db_copy(state: State, to_env: str) -> None:
    """Copy every table, ids kept, into an empty database (SQLite to PostgreSQL, PostgreSQL
    to SQLite or to another PostgreSQL), and check each table reads back the same.
    Then point [database] at the target."""
    from service import db_copy as copying
    from service.cli.progress import copy_progress

    url = os.environ.get(to_env)
    if not url:
        raise ConfigError(f"the environment variable {to_env} holding the target database URL is not set")
    ctx = state.context()
    if state.log_level is None:
        logs.set_level("info")  # a long task: a line per table when unattended
    if make_url(ctx.config.database_url()) == make_url(url):
        raise ReviewmonError("the target is the database this config already uses")
    target = db.make_engine(url)
    where = make_url(url).render_as_string(hide_password=True)
    try:
        with copy_progress(enabled=sys.stderr.isatty()) as progress:
            copied = copying.copy_database(ctx.engine, target, progress)
    except KeyboardInterrupt:
        click.echo(f"reviewmon: the copy to {where} was interrupted; the target holds part of the data and will be "
                   "refused: empty it (PostgreSQL: drop and create the database; SQLite: delete the file) and run "
                   "`reviewmon db copy` again", err=True)
        sys.exit(130)
    finally:
        target.dispose()
    rows = sum(t.rows for t in copied)
    click.echo(f"copied {rows:,} rows in {len(copied)} tables to {where}; every table read back the same "
               f"(row count and checksum). Point [database] at it (url_env = \"{to_env}\") to use it.")


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def db_backup(state: State, file: Path) -> None:
    """A consistent copy of the SQLite database in FILE, safe while the service runs. On
    PostgreSQL it says how to use pg_dump instead."""
    ctx = state.context()
    if ctx.engine.dialect.name != "sqlite":
        found = shutil.which("pg_dump")
        how = f"pg_dump --format=custom --file {file} \"$DATABASE_URL\""
        raise ConfigError(
            f"the database is PostgreSQL: back it up with pg_dump ({how}), "
            + (f"found at {found}" if found else "which is not installed here (Debian: apt install postgresql-client)"))
    if file.exists():
        raise ReviewmonError(f"{file} already exists; give a new file name")
    db.backup_sqlite(ctx.engine, str(file))
    click.echo(f"backed up to {file} ({file.stat().st_size:,} bytes)")
