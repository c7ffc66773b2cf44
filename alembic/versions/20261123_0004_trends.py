"""trends: per-review trend facts, daily sums, topics, and triggers that note every change

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The trend tables are derived from reviews, sentiments and drafts (service/trends/rollups.py).
Triggers on those three tables write the id of each changed review to trend_dirty in the
same transaction as the change, so the trends see every writer's changes (poller,
posting, approvals, web app) without any of them knowing about trends. Existing reviews
are noted as changed here, so the first report after the upgrade builds everything.

SQLite rebuilds a table when a later migration alters it in batch mode, which drops its
triggers: such a migration must create them again (tests/trends/test_trends.py checks).
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (the column naming the review, the columns whose change matters to the trends)
WATCHED = {
    "reviews": ("id", "source_id, rating, title, text, translation, location, created_at, updated_at, "
                "first_seen_at, owner_reply, removed_at"),
    "sentiments": ("review_id", "review_id, negative"),
    "drafts": ("review_id", "review_id, status, posted_at"),
}


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, (key, columns) in WATCHED.items():
        statements += [
            f"CREATE TRIGGER trend_{table}_insert AFTER INSERT ON {table} "
            f"BEGIN INSERT INTO trend_dirty (review_id) VALUES (NEW.{key}); END",
            f"CREATE TRIGGER trend_{table}_update AFTER UPDATE OF {columns} ON {table} "
            f"BEGIN INSERT INTO trend_dirty (review_id) VALUES (NEW.{key}); "
            f"INSERT INTO trend_dirty (review_id) SELECT OLD.{key} WHERE OLD.{key} <> NEW.{key}; END",
            f"CREATE TRIGGER trend_{table}_delete AFTER DELETE ON {table} "
            f"BEGIN INSERT INTO trend_dirty (review_id) VALUES (OLD.{key}); END",
        ]
    return statements


def _postgres_triggers() -> list[str]:
    statements = []
    for table, (key, columns) in WATCHED.items():
        statements += [
            f"""CREATE FUNCTION trend_note_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO trend_dirty (review_id) VALUES (NEW.{key});
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.{key} <> NEW.{key}) THEN
        INSERT INTO trend_dirty (review_id) VALUES (OLD.{key});
    END IF;
    RETURN NULL;
END $$""",
            f"CREATE TRIGGER trend_{table}_changed AFTER INSERT OR DELETE OR UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION trend_note_{table}()",
        ]
    return statements


def _drop_triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        events = ("insert", "update", "delete")
        return [f"DROP TRIGGER IF EXISTS trend_{table}_{event}" for table in WATCHED for event in events]
    return [f"DROP FUNCTION IF EXISTS trend_note_{table}() CASCADE" for table in WATCHED]  # CASCADE: its trigger too


def upgrade() -> None:
    op.create_table(
        "trend_dirty",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), nullable=False),
    )
    op.create_table(
        "trend_reviews",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("review_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("negative", sa.Boolean(), nullable=False),
        sa.Column("responded", sa.Boolean(), nullable=False),
        sa.Column("reply_seconds", sa.BigInteger(), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_trend_reviews_review_id", "trend_reviews", ["review_id"], unique=True)
    op.create_table(
        "trend_review_topics",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("source_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("location", sa.Text(), primary_key=True),
        sa.Column("topic", sa.Text(), primary_key=True),
        sa.Column("review_id", sa.Integer(), primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_trend_review_topics_review_id", "trend_review_topics", ["review_id"])
    op.create_table(
        "trend_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("source_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("location", sa.Text(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (
            "reviews", "rated", "rating_sum", "rating_1", "rating_2", "rating_3", "rating_4", "rating_5",
            "negative", "responded", "replies_timed")),
        sa.Column("reply_seconds", sa.LargeBinary(), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "trend_topic_days",
        sa.Column("topic", sa.Text(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("source_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("location", sa.Text(), primary_key=True),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "trend_state",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_triggers() if dialect == "sqlite" else _postgres_triggers():
        op.execute(statement)
    op.execute("INSERT INTO trend_dirty (review_id) SELECT id FROM reviews")


def downgrade() -> None:
    for statement in _drop_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    for table in ("trend_state", "trend_topic_days", "trend_days", "trend_review_topics", "trend_reviews",
                  "trend_dirty"):
        op.drop_table(table)
