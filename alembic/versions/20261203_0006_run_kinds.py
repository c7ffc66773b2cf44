"""poll_runs.kind: tell a backfill's run from a poll's

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every run recorded so far was a poll's or a backfill's; a backfill's failures said so
    # in their error ("backfill: ..."), its successes did not. Call those that said so
    # backfills, the rest polls.
    op.add_column("poll_runs", sa.Column("kind", sa.String(20), nullable=False, server_default="poll"))
    op.execute("UPDATE poll_runs SET kind = 'backfill' WHERE error LIKE 'backfill: %'")


def downgrade() -> None:
    with op.batch_alter_table("poll_runs") as batch:
        batch.drop_column("kind")
