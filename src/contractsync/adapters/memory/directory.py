"""The directory port in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

from contractsync.adapters.memory.refused_records import is_refused
from contractsync.domain.model import Customer, Reseller, Subscription
from contractsync.ports.audit_records import AdjustmentLine
from contractsync.ports.directory import (
    ConnectionPause,
    CredentialsChange,
    CustomerMapping,
    StoredConnection,
    StoredSubscription,
    SubscriptionMapping,
    SyncBadge,
)
from contractsync.ports.outbox import OPEN_STATUSES

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData

T = TypeVar("T")


def _add(table: dict[str, T], key: str, value: T) -> bool:
    if key in table:
        return False
    table[key] = value
    return True


class MemoryDirectory:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def reseller(self, reseller_id: str) -> Reseller | None:
        return self.data.resellers.get(reseller_id)

    def resellers(self, only: str | None = None) -> list[Reseller]:
        return [r for _, r in sorted(self.data.resellers.items()) if only in (None, r.id)]

    def add_reseller(self, reseller: Reseller) -> bool:
        return _add(self.data.resellers, reseller.id, reseller)

    def approve_billing(self, reseller_id: str, through: date) -> None:
        resellers = self.data.resellers
        resellers[reseller_id] = replace(resellers[reseller_id], approved_through=through)

    def connection(self, connection_id: str) -> StoredConnection | None:
        return self.data.connections.get(connection_id)

    def connections(self, only: str | None = None) -> list[StoredConnection]:
        return [c for _, c in sorted(self.data.connections.items()) if only in (None, c.reseller_id)]

    def add_connection(self, connection: StoredConnection) -> bool:
        return _add(self.data.connections, connection.id, connection)

    def change_credentials(self, connection_id: str, change: CredentialsChange) -> None:
        current = self.data.connections[connection_id]
        self.data.connections[connection_id] = replace(
            current, **change.values(), credentials_version=current.credentials_version + 1
        )

    def pause(self, connection_id: str) -> ConnectionPause | None:
        return self.data.pauses.get(connection_id)

    def pauses(self) -> dict[str, ConnectionPause]:
        return dict(self.data.pauses)

    def probe_now(self, connection_id: str, now: datetime) -> None:
        pause = self.data.pauses.get(connection_id)
        if pause is not None:
            self.data.pauses[connection_id] = replace(pause, next_probe_at=now)

    def customer(self, customer_id: str) -> Customer | None:
        return self.data.customers.get(customer_id)

    def customers(self, only: str | None = None) -> list[Customer]:
        return [c for _, c in sorted(self.data.customers.items()) if only in (None, c.reseller_id)]

    def add_customer(self, customer: Customer) -> bool:
        return _add(self.data.customers, customer.id, customer)

    def customer_mapping(self, customer_id: str) -> CustomerMapping | None:
        """(As SQL answers it: of a customer mapped on several connections, the first connection's.)"""
        return next(iter(self.data.mappings_of_customer(customer_id)), None)

    def add_customer_mapping(self, mapping: CustomerMapping) -> bool:
        taken = any(
            mapping.customer_id == m.customer_id or mapping.company_id == m.company_id
            for m in self.data.customer_mappings.values()
            if m.connection_id == mapping.connection_id
        )
        if taken:
            return False
        self.data.customer_mappings[(mapping.customer_id, mapping.connection_id)] = mapping
        return True

    def remove_customer_mapping(self, customer_id: str, connection_id: str) -> None:
        self.data.customer_mappings.pop((customer_id, connection_id), None)

    def move_customer_mapping(self, customer_id: str, connection_id: str, company_id: int) -> None:
        found = self.data.customer_mappings.get((customer_id, connection_id))
        if found is not None:
            self.data.customer_mappings[(customer_id, connection_id)] = replace(found, company_id=company_id)

    def subscription(self, subscription_id: str) -> StoredSubscription | None:
        return self.data.subscriptions.get(subscription_id)

    def subscription_ids(self, only: str | None = None, customer_id: str | None = None) -> list[str]:
        return [
            key
            for key, s in sorted(self.data.subscriptions.items())
            if only in (None, s.value.reseller_id) and customer_id in (None, s.value.customer_id)
        ]

    def subscriptions(self, subscription_ids: Iterable[str]) -> list[StoredSubscription]:
        return [self.data.subscriptions[i] for i in set(subscription_ids) if i in self.data.subscriptions]

    def add_subscription(self, subscription: Subscription, now: datetime) -> bool:
        return _add(self.data.subscriptions, subscription.id, StoredSubscription(subscription))

    def subscription_mapping(self, subscription_id: str) -> SubscriptionMapping | None:
        return self.data.subscription_mappings.get(subscription_id)

    def remove_subscription_mapping(self, subscription_id: str) -> SubscriptionMapping | None:
        self.data.mapped_at.pop(subscription_id, None)
        return self.data.subscription_mappings.pop(subscription_id, None)

    def customer_mappings_of(self, connection_id: str) -> list[CustomerMapping]:
        return [m for _, m in sorted(self.data.customer_mappings.items()) if m.connection_id == connection_id]

    def subscription_mappings_of(self, connection_id: str) -> list[SubscriptionMapping]:
        return [m for m in self.data.subscription_mappings.values() if m.connection_id == connection_id]

    def open_manual_actions(self, subscription_id: str) -> int:
        actions = self.data.manual_actions.values()
        return sum(1 for a in actions if a.subscription_id == subscription_id and a.status == "open")

    def sync_badge(self, subscription_id: str) -> SyncBadge:
        """As in SQL (`adapters/db/sync_badge.py`): unmapped; failed (a refused outbox row, or a
        refused record no later one overtook); pending (rows waiting or in flight); out of sync (the
        connection's last reconciliation found it drifting, and nothing was sent since); synced.
        A test may set `data.sync_badges` instead."""
        data = self.data
        if subscription_id in data.sync_badges:
            return data.sync_badges[subscription_id]
        mapping = data.subscription_mappings.get(subscription_id)
        if mapping is None:
            return "unmapped"
        lines = [a for a in data.adjustments.values() if a.subscription_id == subscription_id]
        refused = (
            r
            for r in data.records.values()
            if r.subscription_id == subscription_id and r.connection_id == mapping.connection_id
        )
        if any(a.status == "failed" for a in lines) or any(is_refused(data, r) for r in refused):
            return "failed"
        if any(a.status in OPEN_STATUSES for a in lines):
            return "pending"
        return "out_of_sync" if self._drifting(mapping.connection_id, subscription_id, lines) else "synced"

    def _drifting(self, connection_id: str, subscription_id: str, lines: list[AdjustmentLine]) -> bool:
        runs = [(key, run) for key, run in self.data.runs.items() if run.connection_id == connection_id]
        if not runs:
            return False
        _, last = max(runs, key=lambda item: item[0])
        if subscription_id not in last.drifting:
            return False
        return not any(a.status == "sent" and a.sent_at and a.sent_at > last.started_at for a in lines)
