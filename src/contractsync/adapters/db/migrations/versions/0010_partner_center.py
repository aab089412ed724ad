"""partner center: sources (encrypted app + user credentials) and the state of their polls

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import contractsync.adapters.db.types

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = contractsync.adapters.db.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "partner_center_sources",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("reseller_id", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.String(length=100), nullable=False),
        sa.Column("application_id", sa.String(length=100), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=False),
        sa.Column("authority_host", sa.String(length=300), nullable=False),
        sa.Column("api_root", sa.String(length=300), nullable=False),
        sa.Column("poll_minutes", sa.Integer(), nullable=False),
        sa.Column("price_list", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTC_DATETIME(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["resellers.id"], name=op.f("fk_partner_center_sources_reseller_id_resellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_center_sources")),
    )
    op.create_index(
        op.f("ix_partner_center_sources_reseller_id"), "partner_center_sources", ["reseller_id"], unique=False
    )
    op.create_table(
        "partner_center_polls",
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC_DATETIME(timezone=True), nullable=True),
        sa.Column("finished_at", UTC_DATETIME(timezone=True), nullable=True),
        sa.Column("next_poll_at", UTC_DATETIME(timezone=True), nullable=False),
        sa.Column("lease_until", UTC_DATETIME(timezone=True), nullable=True),
        sa.Column("page_token", sa.Text(), nullable=True),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("manual_actions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["partner_center_sources.id"],
            name=op.f("fk_partner_center_polls_source_id_partner_center_sources"),
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_partner_center_polls")),
    )


def downgrade() -> None:
    op.drop_table("partner_center_polls")
    op.drop_index(op.f("ix_partner_center_sources_reseller_id"), table_name="partner_center_sources")
    op.drop_table("partner_center_sources")
