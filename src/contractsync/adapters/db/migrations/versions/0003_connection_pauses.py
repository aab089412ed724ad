"""connection pauses: deliveries held while Autotask refuses a connection's credentials

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import contractsync.adapters.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connection_pauses",
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since", contractsync.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("next_probe_at", contractsync.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("probe_interval_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_connection_pauses_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_connection_pauses")),
    )


def downgrade() -> None:
    op.drop_table("connection_pauses")
