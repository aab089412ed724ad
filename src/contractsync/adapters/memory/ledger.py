"""`Ledger` in memory, over `MemoryData.ledger` (the lines `subscription_books` loads as what the
PSA holds), the outbox rows and `MemoryData.units_unknown`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from contractsync.adapters.memory.subscription_books import LedgerLine
from contractsync.domain.schedule import HeldAdjustment
from contractsync.ports.outbox import OPEN_STATUSES, LedgerEntry

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


def _day(line: LedgerLine) -> date:
    return line.held.effective_date


class MemoryLedger:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def entries(self, connection_id: str, contract_service_id: int) -> list[LedgerEntry]:
        lines = sorted(self.data.ledger.get((connection_id, contract_service_id), []), key=_day)
        return [
            LedgerEntry(line.held.effective_date, line.held.unit_change, line.held.unit_price,
                        line.held.unit_cost, line.autotask_id, line.adjustment_id)
            for line in lines
        ]  # fmt: skip

    def replace_from(
        self, connection_id: str, contract_service_id: int, start: date, entries: list[LedgerEntry]
    ) -> None:
        key = (connection_id, contract_service_id)
        kept = {_day(line): line for line in self.data.ledger.get(key, []) if _day(line) < start}
        for entry in entries:
            before = kept.get(entry.effective_date)
            change = entry.unit_change + (before.held.unit_change if before is not None else 0)
            held = HeldAdjustment(entry.effective_date, change, entry.unit_price, entry.unit_cost)
            kept[entry.effective_date] = LedgerLine(entry.adjustment_id, held, entry.autotask_id)
        self.data.ledger[key] = sorted(kept.values(), key=_day)

    def in_flight(self, connection_id: str, contract_service_id: int) -> bool:
        return any(
            a.connection_id == connection_id
            and a.contract_service_id == contract_service_id
            and a.status in OPEN_STATUSES
            for a in self.data.adjustments.values()
        )

    def mark_units_unknown(self, connection_id: str, contract_service_id: int) -> None:
        self.data.units_unknown.add((connection_id, contract_service_id))
