"""reviews: a full-text index for searching them by their words (issue 19)

SQLite: an FTS5 table with the trigram tokenizer over reviews' title and text, filled
from the reviews there are and kept in step by triggers. PostgreSQL: the pg_trgm
extension and a GIN index on the lower-cased title and text. Both answer "every word,
anywhere, any case" (service/desk/search.py) without reading every review.

A later migration that rebuilds the reviews table on SQLite (alembic's batch copy) drops
its triggers: it must create them again (SQLITE_TRIGGERS below).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TABLE = ("CREATE VIRTUAL TABLE reviews_search USING fts5("
                "title, text, content='reviews', content_rowid='id', tokenize='trigram')")
SQLITE_TRIGGERS = [
    """CREATE TRIGGER reviews_search_insert AFTER INSERT ON reviews BEGIN
         INSERT INTO reviews_search (rowid, title, text) VALUES (new.id, new.title, new.text);
       END""",
    """CREATE TRIGGER reviews_search_delete AFTER DELETE ON reviews BEGIN
         INSERT INTO reviews_search (reviews_search, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
       END""",
    """CREATE TRIGGER reviews_search_update AFTER UPDATE OF title, text ON reviews BEGIN
         INSERT INTO reviews_search (reviews_search, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
         INSERT INTO reviews_search (rowid, title, text) VALUES (new.id, new.title, new.text);
       END""",
]
# the expression service.desk.search.haystack() writes
PG_INDEX = "ix_reviews_search_trgm"
PG_EXPRESSION = "lower((COALESCE(title, '') || ' ') || text)"


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(SQLITE_TABLE)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO reviews_search (reviews_search) VALUES ('rebuild')")
        return
    schema = _trgm_schema()
    op.execute(f"CREATE INDEX {PG_INDEX} ON reviews USING gin ({PG_EXPRESSION} {schema}.gin_trgm_ops)")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS reviews_search_{name}")
        op.execute("DROP TABLE IF EXISTS reviews_search")
        return
    op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")


def _trgm_schema() -> str:
    """The schema pg_trgm lives in: one database-wide extension, installed in `public`
    unless it was there before (its operator class is named with its schema, so a
    database whose search_path differs still finds it)."""
    bind = op.get_bind()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    found = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    return '"' + found.replace('"', '""') + '"'
