"""Engines, sessions and migrations. Nothing here runs at import time.

SQLite gets WAL (readers don't block the poller), a busy timeout (an overlapping cron
run waits instead of failing), foreign keys, and real transactions around schema
changes. PostgreSQL connections are pinged when taken from the pool, so a server restart
costs a reconnect, not a failed poll. The schema is alembic's alone:
`migrate()` brings a database to head; `check_migrated()` refuses to work on one that
is not there, and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session

from alembic import command
from service.errors import DatabaseUnavailable, NotMigrated
from service.resources import migrations_dir


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (below), so
    # that schema changes are transactional too: a failed migration leaves nothing behind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Unicode lower(): SQLite's lower() and LIKE fold only ASCII, so a search for "café"
    # would miss "CAFÉ" (service/desk/search.py)
    dbapi_connection.create_function("reviewmon_lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(connection: sa.Connection) -> None:
    # A transaction that reads and then writes must take the write lock at BEGIN: if it
    # waits until its first write, another process's commit in between makes SQLite fail
    # it at once with "database is locked", busy timeout or not.
    immediate = connection.get_execution_options().get(WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITE_OPTION = "reviewmon_write"


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # A pooled connection dies when the server restarts; test it at checkout, or the
        # next poll's first statement fails (and with it the whole poll).
        kwargs.setdefault("pool_pre_ping", True)
        if parsed.get_driver_name() == "psycopg":
            # psycopg prepares a statement run five times, and PostgreSQL may then keep one
            # generic plan for it. For "this page's review ids IN (...)" that plan was a
            # sequential scan, chosen while the table was small and kept as it grew: a big
            # import slowed down page after page (bench/ingest.py). Plan each statement.
            kwargs.setdefault("connect_args", {}).setdefault("prepare_threshold", None)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any exception.
    `write=True` for transactions that read before they write (SQLite: BEGIN IMMEDIATE)."""
    bind = engine.execution_options(**{WRITE_OPTION: True}) if write else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """What alembic compares with the models: not the search index, which each database
    builds its own way (SQLite: the FTS5 table `reviews_search` and its shadow tables;
    PostgreSQL: a trigram index; service/desk/search.py)."""
    return not (name and (name.startswith("reviews_search") or name == "ix_reviews_search_trgm"))


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    return ScriptDirectory(str(migrations_dir())).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema's revision; also the first connection every command makes, so a database
    that cannot be reached is said here, in one line (DatabaseUnavailable)."""
    try:
        connection = engine.connect()
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"cannot reach the database {where}: {reason}") from None
    with connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade to head; returns (revision before, revision after)."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, current_revision(engine)


def check_migrated(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no reviewmon tables yet" if current is None else f"is at schema revision {current}, this version needs {head}"
        raise NotMigrated(f"the database {engine.url.render_as_string(hide_password=True)} {state}; run `reviewmon migrate`")


def backup_sqlite(engine: Engine, path: str) -> None:
    """A consistent copy of a SQLite database into the new file `path`, while others
    read and write it (SQLite's online backup: it copies pages and starts again on the
    ones a writer changed meanwhile). PostgreSQL has pg_dump for this."""
    import sqlite3

    if engine.dialect.name != "sqlite":
        raise ValueError("backup_sqlite() backs up SQLite databases; use pg_dump for PostgreSQL")
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(path)
        try:
            raw.driver_connection.backup(target)
        finally:
            target.close()
    finally:
        raw.close()

