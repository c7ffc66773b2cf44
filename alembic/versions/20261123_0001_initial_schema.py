"""initial schema: sources, reviews and their revisions, sentiment, drafts, poll runs

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from service.models, so this migration keeps
# meaning the same thing when the models change later.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def Time():  # noqa: N802 (reads like a type)
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("cursor", JSON, nullable=True),
        sa.Column("created_at", Time(), nullable=False),
        sa.Column("last_polled_at", Time(), nullable=True),
        sa.Column("last_success_at", Time(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", Time(), nullable=True),
    )
    op.create_table(
        "poll_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id"), nullable=False, index=True),
        sa.Column("started_at", Time(), nullable=False),
        sa.Column("finished_at", Time(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("drafted", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("problems", JSON, nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id"), nullable=False, index=True),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("created_at", Time(), nullable=True, index=True),
        sa.Column("updated_at", Time(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("owner_reply", sa.Text(), nullable=True),
        sa.Column("raw", JSON, nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("first_seen_at", Time(), nullable=False),
        sa.Column("changed_at", Time(), nullable=False),
        sa.UniqueConstraint("source_id", "external_id", name="uq_reviews_source_external_id"),
    )
    op.create_table(
        "review_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("reviews.id"), nullable=False, index=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", Time(), nullable=True),
        sa.Column("replaced_at", Time(), nullable=False),
    )
    op.create_table(
        "sentiments",
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("reviews.id"), primary_key=True),
        sa.Column("compound", sa.Float(), nullable=True),
        sa.Column("negative", sa.Boolean(), nullable=False, index=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("scored_at", Time(), nullable=False),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("reviews.id"), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template", sa.String(100), nullable=True),
        sa.Column("policy_ok", sa.Boolean(), nullable=False),
        sa.Column("policy_problems", JSON, nullable=False),
        sa.Column("created_at", Time(), nullable=False),
        sa.Column("updated_at", Time(), nullable=False),
        sa.Column("edited_by", sa.String(100), nullable=True),
    )
    op.create_table(
        "draft_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("draft_id", sa.Integer(), sa.ForeignKey("drafts.id"), nullable=False, index=True),
        sa.Column("at", Time(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    for table in ("draft_events", "drafts", "sentiments", "review_revisions", "reviews", "poll_runs", "sources"):
        op.drop_table(table)
