"""The reconciliation facts (`ports/reconciliation_facts.py`) over dictionaries: the memory unit of
work's mappings, contracts, books, ledger, outbox lines and records, read as the SQL adapter reads
the tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contractsync.adapters.memory.refused_records import is_refused
from contractsync.domain.pricing import unit_pricing
from contractsync.domain.reconciliation import OutboxRow, Refusal, SentRow
from contractsync.domain.schedule import State
from contractsync.ports.reconciliation_facts import ConnectionRecords, ServiceRecords, why_open
from contractsync.ports.reconciliation_runs import DEFAULT_CURRENCY, DEFAULT_EVERY_HOURS, Schedule

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemoryReconciliationFacts:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def read(self, connection_id: str, timezone: str) -> ConnectionRecords:
        data = self.data
        settings = data.schedules.get(connection_id, Schedule(DEFAULT_EVERY_HOURS, DEFAULT_CURRENCY))
        services: dict[int, ServiceRecords] = {}
        for m in sorted(data.subscription_mappings.values(), key=lambda m: m.subscription_id):
            if m.connection_id == connection_id:
                customer = data.subscriptions[m.subscription_id].value.customer_id
                services[m.contract_service_id] = ServiceRecords(
                    m.subscription_id, customer, m.contract_id, m.contract_service_id, m.mapped_on
                )
        contracts = {key[1]: c for key, c in data.contracts.items() if key[0] == connection_id}
        for (owner, cs), book in data.books.items():
            if owner == connection_id and cs in services:
                services[cs].intents = [book.intents[day] for day in sorted(book.intents)]
                services[cs].service_start = min(services[cs].service_start, book.service_start)
        self._ledger(connection_id, services)
        self._outbox(connection_id, services)
        self._refusals(connection_id, services)
        return ConnectionRecords(
            connection_id,
            timezone,
            settings.currency,
            settings.every_hours,
            contracts,
            list(services.values()),
        )

    def _ledger(self, connection_id: str, services: dict[int, ServiceRecords]) -> None:
        data = self.data
        mine = [
            (key[1], line) for key, lines in data.ledger.items() if key[0] == connection_id for line in lines
        ]
        for cs, entry in sorted(mine, key=lambda found: found[1].held.effective_date):
            service = services.get(cs)
            if service is None:
                continue
            line = None if entry.adjustment_id is None else data.adjustments.get(entry.adjustment_id)
            record = None if line is None else data.records.get(line.operation_id)
            notes = [] if record is None else list(record.details.get("notes", []))
            held = entry.held
            note = next((n for n in notes if held.effective_date.isoformat() in n), None)
            service.sent.append(SentRow(held, None if line is None else line.operation_id, note))

    def _outbox(self, connection_id: str, services: dict[int, ServiceRecords]) -> None:
        for _, line in sorted(self.data.adjustments.items()):
            service = services.get(line.contract_service_id)
            if line.connection_id != connection_id or service is None:
                continue
            if line.status not in ("pending", "sending", "failed"):
                continue
            why = why_open(line.status, line.error, line.attempts, line.due_at)
            row = OutboxRow(line.effective_date, line.target_units, line.unit_price, line.unit_cost,
                            line.operation_id, why)  # fmt: skip
            (service.failed if line.status == "failed" else service.open_rows).append(row)

    def _refusals(self, connection_id: str, services: dict[int, ServiceRecords]) -> None:
        data = self.data
        by_subscription = {s.subscription_id: s for s in services.values()}
        refused = [
            r
            for _, r in sorted(data.records.items())
            if r.connection_id == connection_id
            and r.subscription_id in by_subscription
            and is_refused(self.data, r)
        ]
        for record in refused:
            service = by_subscription[str(record.subscription_id)]
            day = record.effective_date or service.service_start
            service.refusals.append(Refusal(record.id, day, record.reason or "refused"))
        for subscription_id in {str(r.subscription_id) for r in refused}:
            value = data.subscriptions[subscription_id].value
            customer = data.customers[value.customer_id]
            reseller = data.resellers[customer.reseller_id]
            pricing = unit_pricing(value, customer, reseller.promotion_setting)
            units = value.quantity if value.is_live else 0
            by_subscription[subscription_id].wanted = State(units, pricing.unit_price, pricing.unit_cost)
