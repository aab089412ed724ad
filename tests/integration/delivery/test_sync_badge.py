"""sync_state: unmapped, pending while work is open, failed while a refusal stands, synced otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.sync_badge import sync_badge as sync_state
from contractsync.adapters.db.tables import customers, subscriptions
from tests.fakes.outbox_data import Row, contract_of, enqueue_operation, map_subscription
from tests.sandbox_autotask import SandboxAutotask


def _subscription(session: Session, clock: ManualClock) -> None:
    session.execute(insert(customers).values(id="c1", reseller_id="r1", name="Contoso", provider_margins={}))
    session.execute(
        insert(subscriptions).values(
            id="s1",
            customer_id="c1",
            reseller_id="r1",
            offer_id="CFQ7TTC0LF8S:0001",
            offer_name="Microsoft 365 E5",
            kind="nce",
            quantity=10,
            status="active",
            term="P1Y",
            billing_cycle="monthly",
            start_date=date(2025, 1, 15),
            end_date=date(2026, 1, 14),
            auto_renew=True,
            list_price=Decimal("10.00"),
            version=1,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
    )


def test_sync_state_follows_the_outbox(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    with transaction(factory) as session:
        _subscription(session, clock)
        assert sync_state(session, "s1") == "unmapped"
        map_subscription(session, "s1", 1, clock.now())
        assert sync_state(session, "s1") == "synced"
        enqueue_operation(session, [Row(1, date(2025, 3, 3), 10)], clock.now(), subscription_id="s1")
        assert sync_state(session, "s1") == "pending"
    drain()
    with transaction(factory) as session:
        assert sync_state(session, "s1") == "synced"
    autotask.contract(contract_of(1), date(2025, 1, 1), date(2025, 3, 31))
    with transaction(factory) as session:
        enqueue_operation(session, [Row(1, date(2025, 4, 3), 12)], clock.now(), subscription_id="s1")
    drain()
    with transaction(factory) as session:
        assert sync_state(session, "s1") == "failed"  # Autotask refused it: outside the contract
    with transaction(factory) as session:
        enqueue_operation(session, [Row(1, date(2025, 3, 20), 11)], clock.now(), subscription_id="s1")
    drain()
    with transaction(factory) as session:
        assert sync_state(session, "s1") == "synced"  # F1: the failure is superseded
