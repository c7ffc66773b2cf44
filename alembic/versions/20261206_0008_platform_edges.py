"""reviews: the platform's moderation state of the owner reply it shows (Google's
ReviewReplyState: PENDING, REJECTED, APPROVED)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite): the trends triggers on reviews stay as they are.
    op.add_column("reviews", sa.Column("owner_reply_state", sa.String(50), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place on both (SQLite 3.35 and later), never batch mode:
    # a copied reviews table would lose its trends triggers (migration 0004).
    op.drop_column("reviews", "owner_reply_state")
