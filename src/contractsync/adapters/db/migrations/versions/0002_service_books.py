"""service books: target intents per contract service

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_books",
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("contract_service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("service_start", sa.Date(), nullable=False),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "contract_service_id", name=op.f("pk_service_books")),
    )


def downgrade() -> None:
    op.drop_table("service_books")
