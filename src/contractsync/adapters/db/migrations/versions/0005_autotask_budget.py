"""autotask budget: the request budget shared by every process of a connection

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import contractsync.adapters.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "autotask_request_minutes",
        sa.Column("budget_key", sa.String(length=200), nullable=False),
        sa.Column("minute", contractsync.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("budget_key", "minute", name=op.f("pk_autotask_request_minutes")),
    )
    op.create_table(
        "autotask_budgets",
        sa.Column("budget_key", sa.String(length=200), nullable=False),
        sa.Column("tenant_threshold", sa.Integer(), nullable=True),
        sa.Column("others", sa.Integer(), nullable=False),
        sa.Column(
            "threshold_read_at", contractsync.adapters.db.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "refresh_claimed_at", contractsync.adapters.db.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_request_at", contractsync.adapters.db.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("budget_key", name=op.f("pk_autotask_budgets")),
    )


def downgrade() -> None:
    op.drop_table("autotask_budgets")
    op.drop_table("autotask_request_minutes")
