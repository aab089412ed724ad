"""an alert remembers when it, and its resolution, were sent to the alert webhook

Revision ID: 0018
Revises: 0017

`alerts.notified_at`: when a worker sent the alert to `CONTRACTSYNC_ALERT_WEBHOOK_URL` (the
worker claims it by setting this before it posts, so that one worker of many sends it). NULL: not
sent; an alert raised again is sent again. `alerts.resolution_notified_at`: the same for the
message that an alert which was sent is resolved. Alerts stored before are sent once, when a
webhook is first configured, if still open and not acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contractsync.adapters.db.types import UtcDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("notified_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("resolution_notified_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("resolution_notified_at")
        batch.drop_column("notified_at")
