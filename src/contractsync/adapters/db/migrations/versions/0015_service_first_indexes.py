"""the outbox's and the ledger's service indexes lead with the contract service

Revision ID: 0015
Revises: 0014

The group commit reads a group's open outbox rows and ledger with
`connection_id = :c AND contract_service_id = ANY(:services)`. With the connection first in the
index, PostgreSQL may plan the services as a filter: the plan it caches for a prepared statement
while the table is still small (a new install, a new connection) then reads every row of the
connection on every group, and the cost grows with the outbox until an ANALYZE replaces the plan
(measured: 0.02 → 4 ms per group over 2,000 operations). With the contract service first, a plan
through these indexes has the services as its index condition. (A plan through the index on
status reads every open row instead: the read is therefore also planned on every run,
`session.UNPREPARED`.) Every other look-up of these indexes gives both columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOX = ["connection_id", "contract_service_id", "status", "id"]
LEDGER = ["connection_id", "contract_service_id", "effective_date"]


def _service_first(columns: list[str]) -> list[str]:
    return [columns[1], columns[0], *columns[2:]]


def _swap(outbox_from: list[str], outbox_to: list[str], ledger_from: list[str], ledger_to: list[str]) -> None:
    with op.batch_alter_table("adjustments") as batch:
        batch.drop_index(f"ix_adjustments_{'_'.join(outbox_from)}")
        batch.create_index(f"ix_adjustments_{'_'.join(outbox_to)}", outbox_to)
    with op.batch_alter_table("ledger") as batch:
        batch.drop_constraint(f"uq_ledger_{'_'.join(ledger_from)}", type_="unique")
        batch.create_unique_constraint(f"uq_ledger_{'_'.join(ledger_to)}", ledger_to)


def upgrade() -> None:
    _swap(OUTBOX, _service_first(OUTBOX), LEDGER, _service_first(LEDGER))


def downgrade() -> None:
    _swap(_service_first(OUTBOX), OUTBOX, _service_first(LEDGER), LEDGER)
