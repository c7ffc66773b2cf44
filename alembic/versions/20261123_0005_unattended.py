"""unattended running: source leases and backfill state, and the alerts outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite): the trends triggers stay as they are.
    op.add_column("sources", sa.Column("lease_owner", sa.String(100), nullable=True))
    op.add_column("sources", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sources", sa.Column("backfill_cursor", JSON, nullable=True))
    op.add_column("sources", sa.Column("backfill_done_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sources", sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_sources_next_poll_at", "sources", ["next_poll_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("reviews.id"), nullable=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("batch", sa.String(100), nullable=True),
        sa.UniqueConstraint("channel", "key", name="uq_alerts_channel_key"),
    )
    op.create_index("ix_alerts_status", "alerts", ["status"])
    op.create_index("ix_alerts_review_id", "alerts", ["review_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_review_id", "alerts")
    op.drop_index("ix_alerts_status", "alerts")
    op.drop_table("alerts")
    op.drop_index("ix_sources_next_poll_at", "sources")
    with op.batch_alter_table("sources") as batch:
        for column in ("failing_since", "backfill_done_at", "backfill_cursor", "lease_until", "lease_owner"):
            batch.drop_column(column)
