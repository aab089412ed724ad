"""adjustment refusal: the typed reason Autotask refused a row for (e.g. posted_period)

Revision ID: 0011
Revises: 0009

Rows refused before this revision carry the reason only in their error text; the posted-period
refusals among the failed ones get their typed reason here, once, so a retry still re-plans them
past the posted periods.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("adjustments") as batch:
        batch.add_column(sa.Column("refusal", sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE adjustments SET refusal = 'posted_period' "
        "WHERE status = 'failed' AND error LIKE '%already approved and posted%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("adjustments") as batch:
        batch.drop_column("refusal")
