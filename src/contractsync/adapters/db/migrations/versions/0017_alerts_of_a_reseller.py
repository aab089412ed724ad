"""an alert may belong to a reseller without naming a connection or a subscription

Revision ID: 0017
Revises: 0016

A Partner Center source belongs to a reseller, not to an Autotask connection: the alert that its
polls are failing names the reseller, so that reseller's users see it (`alerts.reseller_id`).
Alerts stored before keep NULL: they are seen through their connection or subscription, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("reseller_id", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("reseller_id")
