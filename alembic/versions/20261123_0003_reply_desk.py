"""the reply desk: users, escalation and triage marks, approval, cooling-off and follow-up

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("escalation", sa.Text(), nullable=True))
        batch.add_column(sa.Column("triage", sa.Text(), nullable=True))
        batch.add_column(sa.Column("text_hash", sa.String(64), nullable=True))
        batch.create_index("ix_reviews_text_hash", ["text_hash"])
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("post_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("followup", sa.String(20), nullable=True))
        batch.add_column(sa.Column("followup_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("followup_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("followup_by", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        for column in ("followup_by", "followup_at", "followup_note", "followup", "post_after", "approved_at", "approved_by"):
            batch.drop_column(column)
    with op.batch_alter_table("reviews") as batch:
        batch.drop_index("ix_reviews_text_hash")
        for column in ("text_hash", "triage", "escalation"):
            batch.drop_column(column)
    op.drop_table("users")
