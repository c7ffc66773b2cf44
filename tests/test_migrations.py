"""The schema is alembic's: the same migrations build it on SQLite and PostgreSQL, and
they build exactly what the models describe."""

from __future__ import annotations

import warnings

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func
from sqlmodel import SQLModel, col, select

import service.models  # noqa: F401  (registers the tables)
from alembic import command
from service import db
from service.desk import suspicious
from service.errors import NotMigrated
from service.models import Review, Source, written_at


@pytest.fixture
def engine(database_url: str):
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def test_migrations_build_exactly_what_the_models_describe(engine) -> None:
    before, after = db.migrate(engine)
    assert (before, after) == (None, db.head_revision())
    with engine.connect() as connection, warnings.catch_warnings():
        # alembic cannot reflect an expression index to compare it: the next test checks the one there is
        warnings.filterwarnings("ignore", ".*expression-based index ix_reviews_written_at")
        warnings.filterwarnings("ignore", ".*expression-based index 'ix_reviews_written_at'")
        warnings.filterwarnings("ignore", ".*expression-based index ix_reviews_search_trgm")
        warnings.filterwarnings("ignore", ".*expression-based index ix_reviews_triaged")
        warnings.filterwarnings("ignore", ".*expression-based index 'ix_reviews_triaged'")
        options = {"compare_type": True, "include_name": db.include_name}
        diff = compare_metadata(MigrationContext.configure(connection, opts=options), SQLModel.metadata)
    assert diff == []


def test_review_lists_read_their_order_from_an_index(engine) -> None:
    """Newest first over a million reviews must not sort them all on every page."""
    db.migrate(engine)
    listing = (select(Review.id).order_by(written_at().desc(), col(Review.id).desc()).limit(50)
               .compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {listing}"))
            assert "ix_reviews_written_at" in plan and "TEMP B-TREE" not in plan, plan
        else:  # an empty table is scanned whatever the indexes: check the index is the query's expression
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {listing}"))
            assert "ix_reviews_written_at" in plan and "Sort" not in plan, plan


def test_the_suspicious_view_reads_its_few_reviews_from_their_own_index(engine) -> None:
    """The inbox counts and lists the reviews with a triage mark on every page: among a
    million reviews, without reading the others."""
    db.migrate(engine)
    marked = suspicious._marked(select(func.count()).select_from(Review).join(Source, Source.id == Review.source_id),
                                ["gone"])
    listing = suspicious._marked(select(Review.id).join(Source, Source.id == Review.source_id), ["gone"]).order_by(
        written_at().desc(), col(Review.id).desc()).limit(50)
    with engine.connect() as connection:
        for query in (marked, listing):
            sql = query.compile(engine, compile_kwargs={"literal_binds": True})
            if engine.dialect.name == "sqlite":
                plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
                assert "ix_reviews_triaged" in plan and "TEMP B-TREE" not in plan, plan
            else:
                connection.exec_driver_sql("SET enable_seqscan = off")
                plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
                assert "ix_reviews_triaged" in plan, plan


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


def test_upgrading_a_database_with_data_keeps_the_data(engine) -> None:
    command.upgrade(db.alembic_config(engine), "0001")
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO sources (id, name, type, created_at, failure_count) VALUES (1, 's', 'file', '2026-01-01 00:00:00', 0)")
        c.exec_driver_sql(
            "INSERT INTO reviews (id, source_id, external_id, text, fingerprint, first_seen_at, changed_at, raw)"
            " VALUES (1, 1, 'r1', 'Cold soup.', 'x', '2026-01-01 00:00:00', '2026-01-01 00:00:00', NULL)"
        )
        c.exec_driver_sql(
            "INSERT INTO drafts (id, review_id, status, text, policy_ok, policy_problems, created_at, updated_at)"
            " VALUES (1, 1, 'approved', 'Sorry.', true, '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    db.migrate(engine)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT text, excerpt, removed_at FROM reviews").one() == ("Cold soup.", False, None)
        assert c.exec_driver_sql("SELECT status FROM sources").scalar_one() == "ok"
        assert c.exec_driver_sql("SELECT status, posted_at FROM drafts").one() == ("approved", None)


def test_upgrading_tells_the_backfills_on_record_from_the_polls(engine) -> None:
    # before 0006 a backfill's run said so only when it failed, in its error
    command.upgrade(db.alembic_config(engine), "0005")
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO sources (id, name, type, created_at, failure_count, status)"
                          " VALUES (1, 's', 'file', '2026-01-01 00:00:00', 0, 'ok')")
        for run_id, status, error in ((1, "ok", None), (2, "failed", "backfill: HTTP 503"), (3, "failed", "HTTP 503")):
            c.execute(sa.text(
                "INSERT INTO poll_runs (id, source_id, started_at, status, fetched, inserted, updated, rejected, drafted,"
                " error, problems) VALUES (:id, 1, '2026-01-01 00:00:00', :status, 0, 0, 0, 0, 0, :error, '[]')"),
                {"id": run_id, "status": status, "error": error})
    db.migrate(engine)
    with engine.connect() as c:
        kinds = c.exec_driver_sql("SELECT id, kind FROM poll_runs ORDER BY id").all()
    assert [tuple(row) for row in kinds] == [(1, "poll"), (2, "backfill"), (3, "poll")]


def _trend_triggers(connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        return set(connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'reviews'").scalars())
    return set(connection.exec_driver_sql(
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text = 'reviews'").scalars())


def test_the_reply_state_column_comes_and_goes_keeping_the_reviews_and_their_triggers(engine) -> None:
    """0008 adds reviews.owner_reply_state in place: the stored reviews keep their data, and
    the trends triggers on reviews (which a SQLite table copy would drop) stay, both ways."""
    config = db.alembic_config(engine)
    command.upgrade(config, "0007")
    with engine.begin() as c:
        triggers = _trend_triggers(c)
        c.exec_driver_sql("INSERT INTO sources (id, name, type, created_at, failure_count, status)"
                          " VALUES (1, 's', 'google', '2026-01-01 00:00:00', 0, 'ok')")
        c.exec_driver_sql(
            "INSERT INTO reviews (id, source_id, external_id, text, owner_reply, fingerprint, first_seen_at, changed_at, excerpt)"
            " VALUES (1, 1, 'r1', 'Cold soup.', 'Sorry!', 'x', '2026-01-01 00:00:00', '2026-01-01 00:00:00', false)")
    assert triggers
    command.upgrade(config, "0008")
    with engine.begin() as c:
        assert tuple(c.exec_driver_sql("SELECT text, owner_reply, owner_reply_state FROM reviews").one()) == ("Cold soup.", "Sorry!", None)
        c.exec_driver_sql("UPDATE reviews SET owner_reply_state = 'REJECTED'")
        assert _trend_triggers(c) == triggers
    command.downgrade(config, "-1")
    with engine.connect() as c:
        assert tuple(c.exec_driver_sql("SELECT text, owner_reply FROM reviews").one()) == ("Cold soup.", "Sorry!")
        assert "owner_reply_state" not in {column["name"] for column in sa.inspect(c).get_columns("reviews")}
        assert _trend_triggers(c) == triggers
