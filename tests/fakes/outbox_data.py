"""Test data for the outbox: a reseller, a connection, operations and their adjustments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from contractsync.adapters.db import operations, outbox
from contractsync.adapters.db.outbox_rows import NewAdjustment
from contractsync.adapters.db.tables import connections, resellers, subscription_mappings

CONNECTION = "at1"


def contract_of(service: int) -> int:
    return 100 + service % 7


def seed_connection(session: Session, now: datetime, connection_id: str = CONNECTION) -> None:
    if session.execute(select(resellers.c.id).where(resellers.c.id == "r1")).first() is None:
        session.execute(insert(resellers).values(id="r1", name="Reseller", promotion_setting="pass_through"))
    session.execute(
        insert(connections).values(
            id=connection_id,
            reseller_id="r1",
            kind="autotask",
            username="api@example.com",
            secret_encrypted="not-a-real-token",
            integration_code="TEST",
            timezone="UTC",
            settle_seconds=0,
            policies={},
            created_at=now,
        )
    )


@dataclass(frozen=True)
class Row:
    service: int
    day: date
    target: int
    price: Decimal = Decimal("12.0000")
    cost: Decimal = Decimal("10.0000")


def enqueue_operation(
    session: Session,
    rows: Sequence[Row],
    now: datetime,
    settle_seconds: float = 0,
    subscription_id: str | None = None,
    connection_id: str = CONNECTION,
) -> tuple[int, list[int]]:
    """One audit record carrying `rows`; answers (operation id, adjustment ids)."""
    operation_id = operations.create_operation(
        session,
        connection_id=connection_id,
        operation_key=f"op-{now.timestamp()}",
        type="UpdateSubscriptionQuantityOnConnection",
        status="pending",
        now=now,
        subscription_id=subscription_id,
    )
    due = now + timedelta(seconds=settle_seconds)
    ids = outbox.enqueue(
        session,
        [
            NewAdjustment(
                operation_id=operation_id,
                connection_id=connection_id,
                subscription_id=subscription_id or f"sub-{r.service}",
                contract_id=contract_of(r.service),
                contract_service_id=r.service,
                effective_date=r.day,
                target_units=r.target,
                unit_price=r.price,
                unit_cost=r.cost,
                due_at=due,
            )
            for r in rows
        ],
        now,
    )
    return operation_id, ids


def map_subscription(session: Session, subscription_id: str, service: int, now: datetime) -> None:
    """A bare mapping row (no subscription row needed on SQLite? FKs are on: callers seed one)."""
    session.execute(
        insert(subscription_mappings).values(
            subscription_id=subscription_id,
            connection_id=CONNECTION,
            contract_id=contract_of(service),
            contract_service_id=service,
            mapped_on=now.date(),
            created_at=now,
        )
    )
