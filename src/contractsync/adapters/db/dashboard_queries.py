"""The dashboard facts (`ports/dashboard.py`) in SQL: one statement each, any number of connections."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contractsync.adapters.db.reconciliation_tables import reconciliation_settings
from contractsync.adapters.db.tables import (
    adjustments,
    connection_operations,
    ledger,
    subscription_mappings,
    subscriptions,
)
from contractsync.ports.dashboard import BilledLine


class SqlDashboardFacts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def currencies(self, connection_ids: Collection[str]) -> dict[str, str]:
        """The currency stored for each connection that has one (the others use the default)."""
        if not connection_ids:
            return {}
        rows = self.session.execute(
            select(reconciliation_settings.c.connection_id, reconciliation_settings.c.currency).where(
                reconciliation_settings.c.connection_id.in_(list(connection_ids))
            )
        )
        return {r.connection_id: r.currency for r in rows}

    def last_deliveries(self, connection_ids: Collection[str]) -> dict[str, datetime]:
        if not connection_ids:
            return {}
        rows = self.session.execute(
            select(adjustments.c.connection_id, func.max(adjustments.c.sent_at).label("sent_at"))
            .where(adjustments.c.connection_id.in_(list(connection_ids)), adjustments.c.sent_at.is_not(None))
            .group_by(adjustments.c.connection_id)
        )
        return {r.connection_id: r.sent_at for r in rows}

    def failed_records(self, connection_ids: Collection[str]) -> dict[tuple[str, str | None], int]:
        """(connection id, customer id) → failed connection operations."""
        if not connection_ids:
            return {}
        rows = self.session.execute(
            select(
                connection_operations.c.connection_id,
                connection_operations.c.customer_id,
                func.count().label("n"),
            )
            .where(
                connection_operations.c.connection_id.in_(list(connection_ids)),
                connection_operations.c.status == "failed",
            )
            .group_by(connection_operations.c.connection_id, connection_operations.c.customer_id)
        )
        return {(r.connection_id, r.customer_id): int(r.n) for r in rows}

    def billed_lines(self, connection_ids: Collection[str], through: date) -> list[BilledLine]:
        if not connection_ids:
            return []
        owners = {
            (r.connection_id, r.contract_service_id): r
            for r in self.session.execute(
                select(
                    subscription_mappings.c.connection_id,
                    subscription_mappings.c.contract_service_id,
                    subscription_mappings.c.subscription_id,
                    subscriptions.c.customer_id,
                    subscriptions.c.billing_cycle,
                )
                .join(subscriptions, subscriptions.c.id == subscription_mappings.c.subscription_id)
                .where(subscription_mappings.c.connection_id.in_(list(connection_ids)))
            )
        }
        changes: dict[tuple[str, int], list[tuple[date, int, Decimal, Decimal]]] = {}
        rows = self.session.execute(
            select(
                ledger.c.connection_id,
                ledger.c.contract_service_id,
                ledger.c.effective_date,
                ledger.c.unit_change,
                ledger.c.unit_price,
                ledger.c.unit_cost,
            )
            .where(ledger.c.connection_id.in_(list(connection_ids)), ledger.c.effective_date <= through)
            .order_by(ledger.c.effective_date, ledger.c.id)
        )
        for r in rows:
            changes.setdefault((r.connection_id, r.contract_service_id), []).append(
                (r.effective_date, int(r.unit_change), Decimal(r.unit_price), Decimal(r.unit_cost))
            )
        return [
            BilledLine(
                key[0],
                key[1],
                owner.subscription_id,
                owner.customer_id,
                owner.billing_cycle,
                changes.get(key, []),
            )
            for key, owner in owners.items()
        ]
