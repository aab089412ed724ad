"""service creations: the outbox of contract services a mapping asks the PSA to create

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import contractsync.adapters.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = contractsync.adapters.db.types.UtcDateTime(timezone=True)
    money = contractsync.adapters.db.types.DecimalText(length=40)
    op.create_table(
        "service_creations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("subscription_id", sa.String(length=100), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("unit_price", money, nullable=False),
        sa.Column("unit_cost", money, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", utc, nullable=False),
        sa.Column("lease_expires_at", utc, nullable=True),
        sa.Column("contract_service_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(length=40), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("sent_at", utc, nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_service_creations_connection_id_connections")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["connection_operations.id"],
            name=op.f("fk_service_creations_operation_id_connection_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_creations")),
    )
    op.create_index(
        op.f("ix_service_creations_subscription_id"), "service_creations", ["subscription_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_service_creations_subscription_id"), table_name="service_creations")
    op.drop_table("service_creations")
