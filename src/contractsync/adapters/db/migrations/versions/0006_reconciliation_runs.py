"""reconciliation settings and runs; alert follow-up (acknowledgement, record link)

Revision ID: 0006
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import contractsync.adapters.db.types

revision: str = "0006"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = contractsync.adapters.db.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reconciliation_settings",
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("every_hours", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_reconciliation_settings_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_reconciliation_settings")),
    )
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=False),
        sa.Column("services_checked", sa.Integer(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.Column("money_impact", contractsync.adapters.db.types.DecimalText(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("drifting", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_reconciliation_runs_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(
        op.f("ix_reconciliation_runs_connection_id_started_at"),
        "reconciliation_runs",
        ["connection_id", "started_at"],
        unique=False,
    )
    op.create_table(
        "alert_follow_up",
        sa.Column("alert_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_follow_up_alert_id_alerts")),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_follow_up")),
    )


def downgrade() -> None:
    op.drop_table("alert_follow_up")
    op.drop_index(op.f("ix_reconciliation_runs_connection_id_started_at"), table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
    op.drop_table("reconciliation_settings")
