"""service checks: what the last verification read, for the ledger self-check

Revision ID: 0009
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import contractsync.adapters.db.types

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_checks",
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("contract_service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("verified_at", contractsync.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_through_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_service_checks_connection_id_connections")
        ),
        sa.PrimaryKeyConstraint("connection_id", "contract_service_id", name=op.f("pk_service_checks")),
    )


def downgrade() -> None:
    op.drop_table("service_checks")
