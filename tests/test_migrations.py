"""The schema is alembic's: the same migrations build it on SQLite and PostgreSQL, and
they build exactly what the models describe."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers the tables)
from service import db
from service.errors import NotMigrated


@pytest.fixture
def engine(database_url: str):
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def test_migrations_build_exactly_what_the_models_describe(engine) -> None:
    before, after = db.migrate(engine)
    assert (before, after) == (None, db.head_revision())
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []


def test_downgrade_to_nothing_and_up_again(engine) -> None:
    db.migrate(engine)
    command.downgrade(db.alembic_config(engine), "base")
    assert db.current_revision(engine) is None
    with pytest.raises(NotMigrated, match="has no reviewmon tables yet; run `reviewmon migrate`"):
        db.check_migrated(engine)
    db.migrate(engine)
    db.check_migrated(engine)


def test_migrate_twice_is_harmless(engine) -> None:
    db.migrate(engine)
    assert db.migrate(engine) == (db.head_revision(), db.head_revision())


def test_an_older_schema_is_named_with_the_fix(engine) -> None:
    db.migrate(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    with pytest.raises(NotMigrated, match=r"is at schema revision older, this version needs .*run `reviewmon migrate`"):
        db.check_migrated(engine)
