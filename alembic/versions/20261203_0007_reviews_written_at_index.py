"""reviews: index the order of every review list (when written, newest first), in place
of the index on created_at alone, which no query used

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same expression as service.models.written_at(): SQLite uses an expression index
# only for a query that orders by exactly this expression.
WRITTEN_AT = sa.text("coalesce(created_at, updated_at, first_seen_at)")


def upgrade() -> None:
    op.drop_index("ix_reviews_created_at", "reviews")
    op.create_index("ix_reviews_written_at", "reviews", [WRITTEN_AT, "id"])


def downgrade() -> None:
    op.drop_index("ix_reviews_written_at", "reviews")
    op.create_index("ix_reviews_created_at", "reviews", ["created_at"])
