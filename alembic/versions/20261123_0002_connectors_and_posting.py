"""source health status, removed / excerpt / language on reviews, posting state on drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("status", sa.String(30), nullable=False, server_default="ok"))
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("excerpt", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("language", sa.String(16), nullable=True))
        batch.add_column(sa.Column("translation", sa.Text(), nullable=True))
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("posted_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("platform_reply_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("platform_state", sa.String(50), nullable=True))
        batch.add_column(sa.Column("post_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        for column in ("confirmed_at", "post_error", "platform_state", "platform_reply_id", "posted_text", "posted_at"):
            batch.drop_column(column)
    with op.batch_alter_table("reviews") as batch:
        for column in ("translation", "language", "excerpt", "removed_at"):
            batch.drop_column(column)
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("status")
