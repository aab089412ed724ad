"""console sign-in attempts move from each process's memory to the database

Revision ID: 0016
Revises: 0015

The console's sign-in limits (per client address and in total) were counted in each API
process's memory, so N processes allowed N times the attempts. The attempts of the last window
are now rows here, counted by every process under one advisory lock (PostgreSQL) or the write
lock (SQLite). Nothing to carry over: the counts held in memory start empty after a restart too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contractsync.adapters.db.types import UtcDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_attempts"),
    )
    op.create_index("ix_sign_in_attempts_key_at", "sign_in_attempts", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempts_key_at", table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
