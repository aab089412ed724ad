"""A contract service is mapped by one subscription at most, also when two mappings race: the
database's unique index (migration 0014) refuses the second, answered as a conflict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from contractsync.adapters.db import migrate
from contractsync.adapters.db.state_store import _insert_mappings
from contractsync.adapters.db.tables import subscription_mappings
from contractsync.domain.model import SubscriptionMapping
from contractsync.ports.errors import Conflict
from contractsync.service.actor import ADMIN
from tests.integration.service.sandbox_world import (
    CONTRACT_ID,
    SERVICE_ID,
    START,
    SandboxWorld,
    sandbox_world,
)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[SandboxWorld]:
    yield from sandbox_world(database_url, tmp_path)


def _second_subscription(world: SandboxWorld) -> str:
    world.service.create_subscription(ADMIN, {
        "id": "s2", "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5",
        "kind": "nce", "quantity": 3, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2024-01-15",
        "end_date": "2025-01-14", "auto_renew": True, "list_price": "10.00",
    })  # fmt: skip
    return "s2"


def _row(subscription_id: str, contract_service_id: int) -> dict[str, object]:
    return {
        "subscription_id": subscription_id, "connection_id": "at1", "contract_id": CONTRACT_ID,
        "service_id": SERVICE_ID, "contract_service_id": contract_service_id, "mapped_on": date(2024, 5, 20),
        "created_at": START,
    }  # fmt: skip


def test_mapping_a_taken_contract_service_is_a_conflict(world: SandboxWorld) -> None:
    taken = world.services[world.new_subscription(5)]
    second = _second_subscription(world)
    with pytest.raises(Conflict, match=f"contract service {taken} is already mapped to subscription s1"):
        world.service.map_subscription(ADMIN, {
            "subscription_id": second, "connection_id": "at1", "contract_id": CONTRACT_ID,
            "service_id": SERVICE_ID, "contract_service_id": taken,
        })  # fmt: skip
    assert world.service.get_subscription(ADMIN, second)["mapping"] is None


def test_the_database_refuses_a_mapping_that_lost_the_race(world: SandboxWorld) -> None:
    """What a second mapping that read "free" before the first committed meets at its write."""
    taken = world.services[world.new_subscription(5)]
    second = _second_subscription(world)
    with world.service.context.sessions() as session:
        with pytest.raises(IntegrityError):
            session.execute(insert(subscription_mappings).values(**_row(second, taken)))
        session.rollback()
        lost = SubscriptionMapping(second, CONTRACT_ID, taken, START, date(2024, 5, 20), SERVICE_ID)
        with pytest.raises(
            Conflict, match=f"contract service {taken} is already mapped to another subscription"
        ):
            _insert_mappings(session, "at1", [lost])
        session.rollback()
    assert world.service.get_subscription(ADMIN, second)["mapping"] is None


def test_upgrade_stops_on_a_database_that_already_shares_a_contract_service(
    world: SandboxWorld, database_url: str
) -> None:
    taken = world.services[world.new_subscription(5)]
    second = _second_subscription(world)
    world.service.context.sessions.kw["bind"].dispose()
    migrate.downgrade(database_url, "0013")
    with world.service.context.sessions() as session:  # written before 0014 could refuse it
        session.execute(insert(subscription_mappings).values(**_row(second, taken)))
        session.commit()
    with pytest.raises(RuntimeError, match=rf"at1/{taken} \(2 subscriptions\).*unmap all but one"):
        migrate.upgrade(database_url)
    world.service.unmap_subscription(ADMIN, second)
    migrate.upgrade(database_url)
    with world.service.context.sessions() as session, pytest.raises(IntegrityError):
        session.execute(insert(subscription_mappings).values(**_row(second, taken)))
