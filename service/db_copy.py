"""Taking everything along to another database (`reviewmon db copy --to-env NAME`).

An owner who outgrows SQLite moves to PostgreSQL (and may want a laptop copy back):
reviews, drafts and their history, follow-ups, users, alerts, runs and the trend tables,
ids kept, so links, exports and the platforms' reply records still point at the same rows.

How it stays safe:
- the target is migrated to the current schema first, and refused if it holds any row:
  a copy never merges into someone's data, and an interrupted copy (which leaves rows)
  is refused until the target is emptied, so it cannot be taken for a whole one;
- the source is read in one transaction (one snapshot, also while the service runs);
- tables go in dependency order, in batches by primary key (keyset, not OFFSET, so a
  million rows cost a million, not half a billion);
- the target's own triggers note every copied review for the trend tables; those notes
  are replaced by the source's, so the trends are the source's exactly (a PostgreSQL
  superuser's copy switches them off while it writes, which halves its time);
- PostgreSQL sequences are moved past the copied ids, so the next review gets a new one;
- every table is read back and compared with the source: its row count and a checksum
  of its values, as both databases return them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers the tables)
from service import db
from service.errors import ReviewmonError

BATCH = 5000
TREND_NOTES = "trend_dirty"  # written by triggers on the target during the copy: replaced last

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in all


class TargetNotEmpty(ReviewmonError):
    """The target already holds rows: reviewmon never copies into a database in use."""


@dataclass(frozen=True)
class CopiedTable:
    name: str
    rows: int
    checksum: str


def copy_database(source: Engine, target: Engine, progress: Progress | None = None) -> list[CopiedTable]:
    """Copy every table of `source` into `target` (migrated here) and verify it. Raises
    TargetNotEmpty before writing anything if the target holds any row, and ReviewmonError
    if a table does not read back as it was written."""
    db.check_migrated(source)  # the same schema on both sides, or the copy would miss tables
    db.migrate(target)
    _refuse_if_not_empty(target)
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name != TREND_NOTES]
    tables.append(SQLModel.metadata.tables[TREND_NOTES])
    quiet = _can_silence_triggers(target)
    with _snapshot(source) as reading:
        totals = {t.name: reading.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in tables}
        copied = []
        for table in tables:
            with target.begin() as writing:
                if table.name == TREND_NOTES:
                    writing.execute(table.delete())
            copied.append(_copy_table(reading, target, table, totals[table.name], progress, quiet))
    _move_sequences(target, tables)
    for table, expected in zip(tables, copied):
        with target.connect() as checking:
            found = _checksum(_rows(checking, table))
        if found != (expected.rows, expected.checksum):
            raise ReviewmonError(f"table {table.name} did not read back as copied ({expected.rows} rows written, "
                                 f"{found[0]} read); the target is incomplete: empty it and copy again")
    return copied


def is_empty(engine: Engine) -> bool:
    """Whether none of reviewmon's tables holds a row (tables not created yet count as empty)."""
    names = set(sa.inspect(engine).get_table_names())
    with engine.connect() as connection:
        return not any(connection.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
                       for t in SQLModel.metadata.sorted_tables if t.name in names)


def _refuse_if_not_empty(target: Engine) -> None:
    if not is_empty(target):
        raise TargetNotEmpty(
            "the target database already holds data; reviewmon copies only into an empty database. If it is "
            "an interrupted copy, empty it (PostgreSQL: drop and create the database; SQLite: delete the file) "
            "and run `reviewmon db copy` again")


class _snapshot:
    """One read transaction over the whole copy: REPEATABLE READ on PostgreSQL (one
    snapshot for every statement); on SQLite a read transaction in WAL mode is one."""

    def __init__(self, engine: Engine):
        options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
        self._connection = engine.connect().execution_options(**options)

    def __enter__(self) -> Connection:
        self._connection.begin()
        return self._connection

    def __exit__(self, *exc: Any) -> None:
        self._connection.rollback()
        self._connection.close()


def _can_silence_triggers(target: Engine) -> bool:
    """Whether the target lets this copy switch its triggers off (PostgreSQL, as a
    superuser): the trend notes they would write for every copied row are replaced by the
    source's anyway, and writing them doubled the time of a copy. Elsewhere they run."""
    if target.dialect.name != "postgresql":
        return False
    with target.connect() as connection:
        return bool(connection.exec_driver_sql(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar())


def _copy_table(reading: Connection, target: Engine, table: sa.Table, total: int,
                progress: Progress | None, quiet: bool = False) -> CopiedTable:
    digest, rows = hashlib.sha256(), 0
    for batch in _batches(reading, table):
        with target.begin() as writing:
            if quiet:  # this transaction only: triggers and foreign-key checks off (the source's rows are whole)
                writing.exec_driver_sql("SET LOCAL session_replication_role = replica")
            writing.execute(table.insert(), [dict(row._mapping) for row in batch])
        for row in batch:
            digest.update(_row_bytes(row))
        rows += len(batch)
        if progress:
            progress(table.name, rows, total)
    if progress and not rows:
        progress(table.name, 0, 0)
    return CopiedTable(table.name, rows, digest.hexdigest())


def _batches(connection: Connection, table: sa.Table) -> Iterator[Sequence[sa.Row]]:
    """The table's rows in primary-key order, BATCH at a time, each batch starting after
    the last key of the one before."""
    key = list(table.primary_key.columns)
    last: Sequence[Any] | None = None
    while True:
        query = sa.select(table).order_by(*key).limit(BATCH)
        if last is not None:
            query = query.where(sa.tuple_(*key) > sa.tuple_(*last))
        batch = connection.execute(query).all()
        if not batch:
            return
        yield batch
        last = [row._mapping[column.name] for column in key for row in batch[-1:]]


def _rows(connection: Connection, table: sa.Table) -> Iterator[sa.Row]:
    for batch in _batches(connection, table):
        yield from batch


def _checksum(rows: Iterator[sa.Row]) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    for row in rows:
        digest.update(_row_bytes(row))
        count += 1
    return count, digest.hexdigest()


def _row_bytes(row: sa.Row) -> bytes:
    return json.dumps([_plain(value) for value in row], sort_keys=True, default=str).encode() + b"\n"


def _plain(value: Any) -> Any:
    """A value as both databases agree on it: times as UTC ISO text, bytes as hex."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _move_sequences(target: Engine, tables: Sequence[sa.Table]) -> None:
    """PostgreSQL hands out ids from sequences that a copy with ids does not advance."""
    if target.dialect.name != "postgresql":
        return
    with target.begin() as connection:
        for table in tables:
            key = list(table.primary_key.columns)
            if len(key) != 1 or not key[0].autoincrement or not isinstance(key[0].type, sa.Integer):
                continue
            name = key[0].name
            connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({name}), 1), "
                f"MAX({name}) IS NOT NULL) FROM {table.name}"), {"table": table.name, "column": name})
