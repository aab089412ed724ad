"""a contract service is mapped by one subscription at most: the index becomes unique

Revision ID: 0014
Revises: 0013

Mapping refused a contract service already mapped to another subscription by reading first, so
two mappings at the same moment could both pass; two subscriptions would then plan the same
Autotask line from two books. The unique index makes the database refuse the second. A database
that already holds such a pair is not changed: the upgrade stops and names the pairs, to be
unmapped by hand (`contractsync` cannot tell which subscription the billing manager meant).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_subscription_mappings_connection_id_contract_service_id"
COLUMNS = ["connection_id", "contract_service_id"]


def _shared_services() -> list[str]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT connection_id, contract_service_id, COUNT(*) AS n FROM subscription_mappings "
            "GROUP BY connection_id, contract_service_id HAVING COUNT(*) > 1 "
            "ORDER BY connection_id, contract_service_id"
        )
    )
    return [f"{r.connection_id}/{r.contract_service_id} ({r.n} subscriptions)" for r in rows]


def upgrade() -> None:
    shared = _shared_services()
    if shared:
        raise RuntimeError(
            "contract services mapped by more than one subscription (connection/contract service): "
            + ", ".join(shared)
            + "; unmap all but one of each (`DELETE /v1/mappings/subscriptions/{id}`), then upgrade again"
        )
    with op.batch_alter_table("subscription_mappings") as batch:
        batch.drop_index(INDEX)
        batch.create_index(INDEX, COLUMNS, unique=True)


def downgrade() -> None:
    with op.batch_alter_table("subscription_mappings") as batch:
        batch.drop_index(INDEX)
        batch.create_index(INDEX, COLUMNS, unique=False)
