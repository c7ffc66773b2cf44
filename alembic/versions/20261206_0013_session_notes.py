"""session_notes: what a web form's answer leaves for the page it redirects to (issue 19)

Every form now answers with a redirect (post/redirect/get), so a reload never posts
again. What the next page must show and the cookie must not carry (a refused reply's
text, which may be long; a new API token's secret, sealed with a pad the cookie holds)
waits here, one note per page and session, deleted when shown and with its session.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("web_sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("page", sa.String(100), nullable=False),
        sa.Column("data", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "page", name="uq_session_notes_session_id_page"),
    )
    op.create_index("ix_session_notes_created_at", "session_notes", ["created_at"])


def downgrade() -> None:
    op.drop_table("session_notes")
