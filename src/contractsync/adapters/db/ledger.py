"""`Ledger` in SQL: the `ledger` table, the outbox's open rows and the contract service's state row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db import ledger_repo
from contractsync.adapters.db.outbox_rows import OPEN_STATUSES, LedgerEntry
from contractsync.adapters.db.tables import adjustments, contract_service_state, ledger


class SqlLedger:
    def __init__(self, session: Session) -> None:
        self.session = session

    def entries(self, connection_id: str, contract_service_id: int) -> list[LedgerEntry]:
        query = (
            select(ledger)
            .where(
                ledger.c.connection_id == connection_id, ledger.c.contract_service_id == contract_service_id
            )
            .order_by(ledger.c.effective_date)
        )
        return [LedgerEntry.from_row(row) for row in self.session.execute(query)]

    def replace_from(
        self, connection_id: str, contract_service_id: int, start: date, entries: list[LedgerEntry]
    ) -> None:
        ledger_repo.replace_from(self.session, connection_id, contract_service_id, start, entries)

    def in_flight(self, connection_id: str, contract_service_id: int) -> bool:
        query = select(adjustments.c.id).where(
            adjustments.c.connection_id == connection_id,
            adjustments.c.contract_service_id == contract_service_id,
            adjustments.c.status.in_(OPEN_STATUSES),
        )
        return self.session.execute(query.limit(1)).first() is not None

    def mark_units_unknown(self, connection_id: str, contract_service_id: int) -> None:
        self.session.execute(
            update(contract_service_state)
            .where(
                contract_service_state.c.connection_id == connection_id,
                contract_service_state.c.contract_service_id == contract_service_id,
            )
            .values(units_unknown=True)
        )
