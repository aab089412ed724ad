"""an alert's message to the webhook is claimed apart from being sent

Revision ID: 0019
Revises: 0018

`alerts.notify_claimed_at`: when a worker took the alert's news (raised or resolved) to send it
to `CONTRACTSYNC_ALERT_WEBHOOK_URL`, so that one worker of many sends it. Until 0018's
`notified_at` and `resolution_notified_at` were set by that claim, before the post: an API
answer said "sent" while the post was still under way or had been lost with a worker killed in
between (and then nobody sent it). They are now set once the receiver accepted the message; a
claim older than a minute is a worker that died, and the news is taken again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contractsync.adapters.db.types import UtcDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("notify_claimed_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("notify_claimed_at")
