"""Outgrowing one machine (issue 20): `reviewmon db copy` takes every row along, SQLite to
PostgreSQL and back, ids kept, verified; the copies answer every command the same; a
poll against a copy stores nothing twice; a target in use is refused; `db backup` makes
a consistent copy of SQLite while it is open."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import make_url
from sqlmodel import select

from service import db, db_copy
from service.models import Alert, Draft, DraftStatus, Review, ReviewRevision, utcnow
from tests.conftest import PG_SKIP, PG_URL, run_cli, write_config

COMMANDS = [("reviews", "list"), ("drafts", "list"), ("trends",), ("sources",), ("alerts", "list"), ("followups",)]


def answers(config: Path) -> dict[str, object]:
    found = {}
    for command in COMMANDS:
        result = run_cli(config, *command, "--format", "json")
        assert result.exit_code == 0, result.output
        found[" ".join(command)] = json.loads(result.stdout)
    return found


def every_kind_of_row(folder: Path) -> Path:
    """The bundled sample polled, then drafts in every status, a follow-up, users, alerts
    and a revision, as the desk and the poller would leave them."""
    config = write_config(folder, f"sqlite:///{folder / 'reviewmon.db'}", [{"name": "sample", "type": "sample"}])
    for step in (("migrate",), ("poll",)):
        assert run_cli(config, *step).exit_code == 0, step
    for name, role in (("ana", "owner"), ("mo", "marketer")):
        added = run_cli(config, "users", "add", name, "--role", role, "--password-stdin", input=f"pw-{name}-1234567\n")
        assert added.exit_code == 0, added.output
    engine = db.make_engine(f"sqlite:///{folder / 'reviewmon.db'}")
    with db.session_scope(engine) as session:
        drafts = session.exec(select(Draft).order_by(Draft.id)).all()
        assert len(drafts) >= len(DraftStatus), "the sample has a draft for every status"
        for draft, status in zip(drafts, DraftStatus):
            draft.status = status.value
            if status in (DraftStatus.posted, DraftStatus.outdated, DraftStatus.withdrawn):
                draft.posted_at, draft.posted_text = utcnow(), draft.text
        drafts[1].approved_at, drafts[1].approved_by = utcnow() - timedelta(days=30), "ana"
        drafts[1].followup, drafts[1].followup_note, drafts[1].followup_at = "contacted", "called, é ✓", utcnow()
        review = session.exec(select(Review).order_by(Review.id)).first()
        session.add(ReviewRevision(review_id=review.id, rating=2, title=None, text="Before the edit.",
                                   updated_at=utcnow() - timedelta(days=2), replaced_at=utcnow()))
        for n, status in enumerate(("pending", "sent", "failed")):
            session.add(Alert(channel="owners", event="negative", key=f"review:{n}", title="A negative review",
                              body="Cold soup", review_id=review.id, status=status, created_at=utcnow()))
    engine.dispose()
    return config


def config_in(folder: Path, database: str) -> Path:
    """The same config, with its [database] line replaced: the copy's."""
    folder.mkdir()
    config = write_config(folder, "sqlite:///unused.db", [{"name": "sample", "type": "sample"}])
    config.write_text(config.read_text().replace('url = "sqlite:///unused.db"', database))
    return config


@pytest.fixture
def postgres_target(monkeypatch):
    """An empty PostgreSQL schema, its URL in TARGET_DATABASE_URL."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = f"copy_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    monkeypatch.setenv("TARGET_DATABASE_URL", url)
    yield url
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def test_sqlite_to_postgresql_and_back_answers_the_same(tmp_path, postgres_target, monkeypatch) -> None:
    original = every_kind_of_row(tmp_path)
    before = answers(original)

    copied = run_cli(original, "db", "copy", "--to-env", "TARGET_DATABASE_URL")
    assert copied.exit_code == 0, copied.output
    assert "every table read back the same" in copied.output
    on_postgres = config_in(tmp_path / "pg", 'url_env = "TARGET_DATABASE_URL"')
    assert answers(on_postgres) == before

    monkeypatch.setenv("LAPTOP_DATABASE_URL", f"sqlite:///{tmp_path / 'laptop.db'}")
    assert run_cli(on_postgres, "db", "copy", "--to-env", "LAPTOP_DATABASE_URL").exit_code == 0
    laptop = config_in(tmp_path / "laptop", 'url_env = "LAPTOP_DATABASE_URL"')
    assert answers(laptop) == before

    reviews = len(before["reviews list"])
    assert run_cli(on_postgres, "poll").exit_code == 0  # the copy's cursors and fingerprints came along
    assert len(answers(on_postgres)["reviews list"]) == reviews
    added = run_cli(on_postgres, "users", "add", "new", "--role", "owner", "--password-stdin", input="pw-new-1234567\n")
    assert added.exit_code == 0, added.output  # the sequences moved past the copied ids


def test_a_target_that_holds_data_is_refused_and_left_alone(tmp_path, monkeypatch) -> None:
    original = every_kind_of_row(tmp_path)
    used = tmp_path / "used.db"
    monkeypatch.setenv("USED_DATABASE_URL", f"sqlite:///{used}")
    assert run_cli(original, "db", "copy", "--to-env", "USED_DATABASE_URL").exit_code == 0
    size = used.stat().st_size
    again = run_cli(original, "db", "copy", "--to-env", "USED_DATABASE_URL")
    assert again.exit_code == 1 and "already holds data" in again.output and "run `reviewmon db copy` again" in again.output
    assert used.stat().st_size == size
    monkeypatch.setenv("SELF_URL", f"sqlite:///{tmp_path / 'reviewmon.db'}")
    assert "already uses" in run_cli(original, "db", "copy", "--to-env", "SELF_URL").output
    assert "is not set" in run_cli(original, "db", "copy", "--to-env", "NOT_SET_ANYWHERE").output


def test_an_interrupted_copy_leaves_a_target_that_is_refused(tmp_path, monkeypatch) -> None:
    original = every_kind_of_row(tmp_path)
    source = db.make_engine(f"sqlite:///{tmp_path / 'reviewmon.db'}")
    target = db.make_engine(f"sqlite:///{tmp_path / 'half.db'}")

    def stop(table: str, done: int, total: int) -> None:
        if table == "reviews":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        db_copy.copy_database(source, target, stop)
    assert not db_copy.is_empty(target)
    with pytest.raises(db_copy.TargetNotEmpty, match="interrupted copy"):
        db_copy.copy_database(source, target)
    source.dispose()
    target.dispose()
    assert original.exists()


def test_a_backup_is_a_whole_consistent_database(tmp_path) -> None:
    config = every_kind_of_row(tmp_path)
    backup = tmp_path / "backup.db"
    done = run_cli(config, "db", "backup", str(backup))
    assert done.exit_code == 0, done.output
    with sqlite3.connect(backup) as copy, sqlite3.connect(tmp_path / "reviewmon.db") as live:
        for table in ("reviews", "drafts", "users", "alerts", "review_revisions", "poll_runs"):
            assert copy.execute(f"SELECT count(*) FROM {table}").fetchone() == live.execute(
                f"SELECT count(*) FROM {table}").fetchone()
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert "already exists" in run_cli(config, "db", "backup", str(backup)).output


def test_a_source_on_an_older_schema_is_refused_before_anything_is_written(tmp_path) -> None:
    from alembic import command
    from service.errors import NotMigrated

    source = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(db.alembic_config(source), "0007")
    target = db.make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(NotMigrated, match="run `reviewmon migrate`"):
        db_copy.copy_database(source, target)
    assert not (tmp_path / "new.db").exists() or db_copy.is_empty(target)
    source.dispose()
    target.dispose()
