"""The directory port in SQL: resellers, connections, customers, subscriptions, their mappings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contractsync.adapters.db import domain_rows
from contractsync.adapters.db.pause_table import connection_pauses
from contractsync.adapters.db.sql import one_of
from contractsync.adapters.db.sync_badge import sync_badge
from contractsync.adapters.db.tables import (
    connections,
    customer_mappings,
    customers,
    manual_actions,
    resellers,
    subscription_mappings,
    subscriptions,
)
from contractsync.domain.model import Customer, Reseller, Subscription
from contractsync.ports.directory import (
    ConnectionPause,
    CredentialsChange,
    CustomerMapping,
    StoredConnection,
    StoredSubscription,
    SubscriptionMapping,
    SyncBadge,
)


def connection_of(row: Any) -> StoredConnection:
    return StoredConnection(
        id=row.id,
        reseller_id=row.reseller_id,
        kind=row.kind,
        username=row.username,
        secret_encrypted=row.secret_encrypted,
        integration_code=row.integration_code,
        base_url=row.base_url,
        timezone=row.timezone,
        settle_seconds=row.settle_seconds,
        created_at=row.created_at,
        policies=dict(row.policies or {}),
        credentials_version=row.credentials_version,
    )


def _subscription_mapping(row: Any) -> SubscriptionMapping:
    return SubscriptionMapping(
        row.subscription_id,
        row.connection_id,
        row.contract_id,
        row.contract_service_id,
        row.service_id,
        row.mapped_on,
    )


def _pause(row: Any) -> ConnectionPause:
    return ConnectionPause(row.connection_id, row.reason, row.since, row.next_probe_at)


class SqlDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Table, values: dict[str, Any]) -> bool:
        try:
            with self.session.begin_nested():
                self.session.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True

    def _scoped(self, table: Table, only: str | None) -> list[Any]:
        query = select(table).order_by(table.c.id)
        if only is not None:
            query = query.where((table.c.id if table is resellers else table.c.reseller_id) == only)
        return list(self.session.execute(query))

    def _by_id(self, table: Table, key: str) -> Any:
        return self.session.execute(select(table).where(table.c.id == key)).first()

    # --- resellers --------------------------------------------------------------------------
    def reseller(self, reseller_id: str) -> Reseller | None:
        row = self._by_id(resellers, reseller_id)
        return None if row is None else domain_rows.reseller(row)

    def resellers(self, only: str | None = None) -> list[Reseller]:
        return [domain_rows.reseller(r) for r in self._scoped(resellers, only)]

    def add_reseller(self, reseller: Reseller) -> bool:
        return self._insert(
            resellers,
            {
                "id": reseller.id,
                "name": reseller.name,
                "promotion_setting": reseller.promotion_setting.value,
                "approved_through": reseller.approved_through,
            },
        )

    def approve_billing(self, reseller_id: str, through: date) -> None:
        self.session.execute(
            update(resellers).where(resellers.c.id == reseller_id).values(approved_through=through)
        )

    # --- connections ------------------------------------------------------------------------
    def connection(self, connection_id: str) -> StoredConnection | None:
        row = self._by_id(connections, connection_id)
        return None if row is None else connection_of(row)

    def connections(self, only: str | None = None) -> list[StoredConnection]:
        return [connection_of(r) for r in self._scoped(connections, only)]

    def add_connection(self, connection: StoredConnection) -> bool:
        return self._insert(connections, vars(connection))

    def change_credentials(self, connection_id: str, change: CredentialsChange) -> None:
        self.session.execute(
            update(connections)
            .where(connections.c.id == connection_id)
            .values(**change.values(), credentials_version=connections.c.credentials_version + 1)
        )

    def pause(self, connection_id: str) -> ConnectionPause | None:
        row = self.session.execute(
            select(connection_pauses).where(connection_pauses.c.connection_id == connection_id)
        ).first()
        return None if row is None else _pause(row)

    def pauses(self) -> dict[str, ConnectionPause]:
        return {p.connection_id: _pause(p) for p in self.session.execute(select(connection_pauses))}

    def probe_now(self, connection_id: str, now: datetime) -> None:
        self.session.execute(
            update(connection_pauses)
            .where(connection_pauses.c.connection_id == connection_id)
            .values(next_probe_at=now)
        )

    # --- customers --------------------------------------------------------------------------
    def customer(self, customer_id: str) -> Customer | None:
        row = self._by_id(customers, customer_id)
        return None if row is None else domain_rows.customer(row)

    def customers(self, only: str | None = None) -> list[Customer]:
        return [domain_rows.customer(r) for r in self._scoped(customers, only)]

    def add_customer(self, customer: Customer) -> bool:
        return self._insert(
            customers,
            {
                "id": customer.id,
                "reseller_id": customer.reseller_id,
                "name": customer.name,
                "tenant_id": customer.tenant_id,
                "provider_margins": {k: str(m) for k, m in customer.provider_margins.items()},
            },
        )

    def customer_mapping(self, customer_id: str) -> CustomerMapping | None:
        row = self.session.execute(
            select(customer_mappings)
            .where(customer_mappings.c.customer_id == customer_id)
            .order_by(customer_mappings.c.connection_id)
        ).first()
        return None if row is None else CustomerMapping(row.customer_id, row.connection_id, row.company_id)

    def _customer_mapping_row(self, customer_id: str, connection_id: str) -> Any:
        return (customer_mappings.c.customer_id == customer_id) & (
            customer_mappings.c.connection_id == connection_id
        )

    def add_customer_mapping(self, mapping: CustomerMapping) -> bool:
        return self._insert(customer_mappings, vars(mapping))

    def remove_customer_mapping(self, customer_id: str, connection_id: str) -> None:
        self.session.execute(
            delete(customer_mappings).where(self._customer_mapping_row(customer_id, connection_id))
        )

    def move_customer_mapping(self, customer_id: str, connection_id: str, company_id: int) -> None:
        self.session.execute(
            update(customer_mappings)
            .where(self._customer_mapping_row(customer_id, connection_id))
            .values(company_id=company_id)
        )

    # --- subscriptions ----------------------------------------------------------------------
    def subscription(self, subscription_id: str) -> StoredSubscription | None:
        row = self._by_id(subscriptions, subscription_id)
        return None if row is None else StoredSubscription(domain_rows.subscription(row), row.version)

    def subscription_ids(self, only: str | None = None, customer_id: str | None = None) -> list[str]:
        query = select(subscriptions.c.id).order_by(subscriptions.c.id)
        if only is not None:
            query = query.where(subscriptions.c.reseller_id == only)
        if customer_id is not None:
            query = query.where(subscriptions.c.customer_id == customer_id)
        return [r.id for r in self.session.execute(query)]

    def subscriptions(self, subscription_ids: Iterable[str]) -> list[StoredSubscription]:
        ids = set(subscription_ids)
        if not ids:
            return []
        rows = self.session.execute(
            select(subscriptions).where(one_of(self.session, subscriptions.c.id, ids))
        )
        return [StoredSubscription(domain_rows.subscription(r), r.version) for r in rows]

    def add_subscription(self, subscription: Subscription, now: datetime) -> bool:
        values = domain_rows.subscription_values(subscription)
        return self._insert(
            subscriptions,
            {"id": subscription.id, **values, "version": 1, "created_at": now, "updated_at": now},
        )

    def subscription_mapping(self, subscription_id: str) -> SubscriptionMapping | None:
        row = self.session.execute(
            select(subscription_mappings).where(subscription_mappings.c.subscription_id == subscription_id)
        ).first()
        return None if row is None else _subscription_mapping(row)

    def remove_subscription_mapping(self, subscription_id: str) -> SubscriptionMapping | None:
        row = self.session.execute(
            delete(subscription_mappings)
            .where(subscription_mappings.c.subscription_id == subscription_id)
            .returning(*subscription_mappings.c)
        ).first()
        return None if row is None else _subscription_mapping(row)

    def customer_mappings_of(self, connection_id: str) -> list[CustomerMapping]:
        query = (
            select(customer_mappings)
            .where(customer_mappings.c.connection_id == connection_id)
            .order_by(customer_mappings.c.customer_id)
        )
        return [
            CustomerMapping(r.customer_id, r.connection_id, r.company_id) for r in self.session.execute(query)
        ]

    def subscription_mappings_of(self, connection_id: str) -> list[SubscriptionMapping]:
        query = select(subscription_mappings).where(subscription_mappings.c.connection_id == connection_id)
        return [_subscription_mapping(r) for r in self.session.execute(query)]

    def open_manual_actions(self, subscription_id: str) -> int:
        count = self.session.execute(
            select(func.count()).where(
                manual_actions.c.subscription_id == subscription_id, manual_actions.c.status == "open"
            )
        ).scalar_one()
        return int(count)

    def sync_badge(self, subscription_id: str) -> SyncBadge:
        return sync_badge(self.session, subscription_id)
