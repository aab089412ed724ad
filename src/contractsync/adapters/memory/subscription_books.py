"""`SubscriptionBooks` in memory: idempotency keys and the F1 requeue over `MemoryData`.

The state slice an operation loads and saves (subscriptions with their books, outbox rows and
ledger) is not kept in memory yet: those methods say so (`NotImplementedError`) instead of
pretending; the use cases that need them are tested on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from contractsync.ports.subscription_books import (
    LoadedState,
    LostRace,
    OperationContext,
    RetryRefused,
    StoredKey,
)

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData

_FAILED, _PENDING, _SENT = "failed", "pending", "sent"


def _not_kept(what: str) -> NoReturn:
    raise NotImplementedError(f"the in-memory unit of work keeps no {what} yet (SQL only)")


class MemorySubscriptionBooks:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def read_context(self, subscription_ids: Iterable[str]) -> OperationContext:
        _not_kept("operation state")

    def read_subscriptions(self, subscription_ids: Iterable[str]) -> Mapping[str, Any]:
        _not_kept("operation state")

    def load(
        self,
        connection_id: str | None,
        subscription_ids: Iterable[str] = (),
        customer_ids: Iterable[str] = (),
        reseller_ids: Iterable[str] = (),
        *,
        locked_rows: Mapping[str, Any] | None = None,
        connection_row: Any = None,
        context: OperationContext | None = None,
    ) -> LoadedState:
        _not_kept("operation state")

    def save(
        self,
        loaded: LoadedState,
        operation_key: str,
        now: datetime,
        actor: str | None = None,
        actors: Mapping[int, str | None] | None = None,
    ) -> list[int]:
        _not_kept("operation state")

    def savepoint(self) -> AbstractContextManager[object]:
        _not_kept("savepoints")

    def customer_subscriptions(self, customer_id: str) -> dict[str | None, list[str]]:
        return self._by_connection(
            s.value.id for s in self.data.subscriptions.values() if s.value.customer_id == customer_id
        )

    def ending_before(self, day: date, reseller_id: str | None = None) -> dict[str | None, list[str]]:
        return self._by_connection(
            s.value.id
            for s in self.data.subscriptions.values()
            if s.value.status.value in ("active", "suspended")
            and s.value.end_date < day
            and reseller_id in (None, s.value.reseller_id)
        )

    def _by_connection(self, ids: Iterable[str]) -> dict[str | None, list[str]]:
        groups: dict[str | None, list[str]] = {}
        for subscription_id in sorted(ids):
            mapping = self.data.subscription_mappings.get(subscription_id)
            groups.setdefault(mapping.connection_id if mapping else None, []).append(subscription_id)
        return groups

    def connection_reseller(self, connection_id: str) -> str:
        return self.data.connections[connection_id].reseller_id

    def stored_keys(self, keys: Iterable[str]) -> dict[tuple[str, str], StoredKey]:
        wanted = set(keys)
        return {where: key for where, key in self.data.operation_keys.items() if where[1] in wanted}

    def store_keys(self, keys: list[StoredKey]) -> None:
        if any((key.scope, key.key) in self.data.operation_keys for key in keys):
            raise LostRace("an operation with the same idempotency key was applied concurrently")
        self.data.operation_keys.update(((key.scope, key.key), key) for key in keys)

    def requeue_failed(self, operation_id: int, now: datetime) -> list[int]:
        record = self.data.records.get(operation_id)
        if record is None:
            raise RetryRefused(f"operation {operation_id} does not exist")
        if record.status != _FAILED:
            raise RetryRefused(
                f"operation {operation_id} is {record.status}; only failed operations can be retried"
            )
        failed = sorted(
            (
                a
                for a in self.data.adjustments.values()
                if a.operation_id == operation_id and a.status == _FAILED
            ),
            key=lambda a: a.id,
        )
        if not failed:
            raise RetryRefused(
                f"operation {operation_id} has no adjustment to retry (nothing was planned for Autotask)"
            )
        for row in failed:
            blocker = min(
                (
                    a.id
                    for a in self.data.adjustments.values()
                    if a.connection_id == row.connection_id
                    and a.contract_service_id == row.contract_service_id
                    and a.status == _SENT
                    and a.id > row.id
                ),
                default=None,
            )
            if blocker is not None:
                raise RetryRefused.sent_later(blocker, row.contract_service_id)
        for row in failed:
            self.data.adjustments[row.id] = dataclasses.replace(
                row, status=_PENDING, attempts=0, error=None, posted_period_refused=False
            )
        self.data.records[operation_id] = dataclasses.replace(
            record, status=_PENDING, reason=None, updated_at=now
        )
        return [row.id for row in failed]
