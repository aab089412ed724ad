"""`SubscriptionBooks` in SQL: the operation's state slice (`state_store`, `operation_store`), its
outbox rows (`outbox`), idempotency keys (`keys_table`) and the F1 requeue, in the unit's session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, aliased

from contractsync.adapters.db import domain_rows, operation_store, state_store
from contractsync.adapters.db.outbox_rows import AdjustmentStatus, OperationStatus
from contractsync.adapters.db.tables import (
    adjustments,
    connection_operations,
    contracts,
    subscription_mappings,
)
from contractsync.domain.model import Contract
from contractsync.ports.subscription_books import LoadedState, OperationContext, RetryRefused, StoredKey

_later = aliased(adjustments)  # rows of the same service sent after the failed one


class SqlSubscriptionBooks:
    def __init__(self, session: Session) -> None:
        self.session = session

    def read_context(self, subscription_ids: Iterable[str]) -> operation_store.OperationContext:
        return operation_store.read_context(self.session, subscription_ids)

    def read_subscriptions(self, subscription_ids: Iterable[str]) -> dict[str, Any]:
        return state_store.read_subscriptions(self.session, subscription_ids)

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
    ) -> state_store.LoadedState:
        assert context is None or isinstance(context, operation_store.OperationContext)
        return state_store.load(
            self.session,
            connection_id,
            subscription_ids,
            customer_ids,
            reseller_ids,
            locked_rows=locked_rows,
            connection_row=connection_row,
            context=context,
        )

    def save(
        self,
        loaded: LoadedState,
        operation_key: str,
        now: datetime,
        actor: str | None = None,
        actors: Mapping[int, str | None] | None = None,
    ) -> list[int]:
        assert isinstance(loaded, state_store.LoadedState)
        return state_store.save(self.session, loaded, operation_key, now, actor, actors)

    def load_service(
        self, loaded: LoadedState, contract_id: int, contract_service_id: int, service_start: date
    ) -> None:
        assert isinstance(loaded, state_store.LoadedState)
        state_store.load_contract(self.session, loaded, contract_id)
        state_store.load_book(self.session, loaded, contract_service_id, contract_id, service_start)

    def contract(self, connection_id: str, contract_id: int) -> Contract | None:
        row = self.session.execute(
            select(contracts).where(
                contracts.c.connection_id == connection_id, contracts.c.contract_id == contract_id
            )
        ).first()
        return None if row is None else domain_rows.contract(row)

    def keep_contract(self, connection_id: str, contract: Contract) -> None:
        if self.contract(connection_id, contract.id) is not None:
            return
        self.session.execute(
            insert(contracts).values(
                connection_id=connection_id, contract_id=contract.id, start_date=contract.start_date,
                end_date=contract.end_date, period_type=contract.period_type.value,
                posted_through=contract.posted_through,
            )
        )  # fmt: skip

    def mapped_to(self, connection_id: str, contract_service_id: int) -> str | None:
        holder = self.session.execute(
            select(subscription_mappings.c.subscription_id).where(
                subscription_mappings.c.connection_id == connection_id,
                subscription_mappings.c.contract_service_id == contract_service_id,
            )
        ).first()
        return None if holder is None else str(holder.subscription_id)

    def savepoint(self) -> AbstractContextManager[object]:
        return self.session.begin_nested()

    def customer_subscriptions(self, customer_id: str) -> dict[str | None, list[str]]:
        query = operation_store.customer_subscriptions(customer_id)
        return operation_store.subscriptions_by_connection(self.session, query)

    def ending_before(self, day: date, reseller_id: str | None = None) -> dict[str | None, list[str]]:
        query = operation_store.ending_before(day, reseller_id)
        return operation_store.subscriptions_by_connection(self.session, query)

    def connection_reseller(self, connection_id: str) -> str:
        return operation_store.connection_reseller(self.session, connection_id)

    def stored_keys(self, keys: Iterable[str]) -> dict[tuple[str, str], StoredKey]:
        return {
            where: StoredKey(
                row.scope, row.key, row.body_hash, row.subscription_id, list(row.record_ids), row.created_at
            )
            for where, row in operation_store.stored_keys(self.session, keys).items()
        }

    def store_keys(self, keys: list[StoredKey]) -> None:
        operation_store.store_keys(self.session, [vars(key) for key in keys])

    def requeue_failed(self, operation_id: int, now: datetime) -> list[int]:
        session = self.session
        status = session.execute(
            select(connection_operations.c.status)
            .where(connection_operations.c.id == operation_id)
            .with_for_update()
        ).scalar_one_or_none()
        if status is None:
            raise RetryRefused(f"operation {operation_id} does not exist")
        if status != OperationStatus.FAILED:
            raise RetryRefused(f"operation {operation_id} is {status}; only failed operations can be retried")
        failed = session.execute(
            select(adjustments.c.id, adjustments.c.connection_id, adjustments.c.contract_service_id).where(
                adjustments.c.operation_id == operation_id, adjustments.c.status == AdjustmentStatus.FAILED
            )
        ).all()
        if not failed:
            raise RetryRefused(
                f"operation {operation_id} has no adjustment to retry (nothing was planned for Autotask)"
            )
        for row_id, connection_id, service in failed:
            blocker = session.execute(
                select(_later.c.id)
                .where(
                    _later.c.connection_id == connection_id,
                    _later.c.contract_service_id == service,
                    _later.c.status == AdjustmentStatus.SENT,
                    _later.c.id > row_id,
                )
                .limit(1)
            ).scalar_one_or_none()
            if blocker is not None:
                raise RetryRefused.sent_later(blocker, service)
        ids = [row_id for row_id, _, _ in failed]
        session.execute(
            update(adjustments)
            .where(adjustments.c.id.in_(ids))
            .values(
                status=AdjustmentStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                error=None,
                error_kind=None,
                refusal=None,
                lease_owner=None,
                lease_expires_at=None,
            )
        )
        session.execute(
            update(connection_operations)
            .where(connection_operations.c.id == operation_id)
            .values(status=OperationStatus.PENDING.value, reason=None, updated_at=now)
        )
        return ids
