"""The dashboard facts (`ports/dashboard.py`) over dictionaries (the ledger: `MemoryData.ledger`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import date, datetime
from typing import TYPE_CHECKING

from contractsync.ports.dashboard import BilledLine

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemoryDashboardFacts:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def currencies(self, connection_ids: Collection[str]) -> dict[str, str]:
        return {k: s.currency for k, s in self.data.schedules.items() if k in connection_ids}

    def last_deliveries(self, connection_ids: Collection[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for line in self.data.adjustments.values():
            if line.connection_id in connection_ids and line.sent_at is not None:
                previous = found.get(line.connection_id)
                found[line.connection_id] = line.sent_at if previous is None else max(previous, line.sent_at)
        return found

    def failed_records(self, connection_ids: Collection[str]) -> dict[tuple[str, str | None], int]:
        return dict(
            Counter(
                (r.connection_id, r.customer_id)
                for r in self.data.records.values()
                if r.connection_id in connection_ids and r.status == "failed"
            )
        )

    def billed_lines(self, connection_ids: Collection[str], through: date) -> list[BilledLine]:
        lines = []
        for mapping in self.data.subscription_mappings.values():
            if mapping.connection_id not in connection_ids:
                continue
            subscription = self.data.subscriptions[mapping.subscription_id].value
            key = (mapping.connection_id, mapping.contract_service_id)
            entries = sorted(
                (line.held for line in self.data.ledger.get(key, []) if line.held.effective_date <= through),
                key=lambda e: e.effective_date,
            )
            changes = [(e.effective_date, e.unit_change, e.unit_price, e.unit_cost) for e in entries]
            lines.append(
                BilledLine(key[0], key[1], mapping.subscription_id, subscription.customer_id,
                           subscription.billing_cycle.value, changes)
            )  # fmt: skip
        return lines
