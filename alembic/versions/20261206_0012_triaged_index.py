"""reviews: a partial index of the reviews with a triage mark that the platform still
shows, newest first, for the inbox's view of suspicious reviews (issue 19): they are
few among many, and the view lists and counts them without reading every review.

Like ix_reviews_written_at, an expression index alembic cannot reflect: a later migration
that rebuilds the reviews table on SQLite (alembic's batch copy) must create it again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same expression as service.models.written_at(), and the same condition as
# service.models.TRIAGED: a database uses a partial index only for a query that implies it.
WRITTEN_AT = sa.text("coalesce(created_at, updated_at, first_seen_at)")
TRIAGED = sa.text("triage IS NOT NULL AND removed_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_reviews_triaged", "reviews", [WRITTEN_AT, "id"], sqlite_where=TRIAGED, postgresql_where=TRIAGED)


def downgrade() -> None:
    op.drop_index("ix_reviews_triaged", "reviews")
