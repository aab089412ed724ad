"""Use cases over the in-memory unit of work: the real façade, no database, no Autotask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.clock import ManualClock
from contractsync.adapters.memory.unit_of_work import FakeUnitsOfWork, MemoryData
from contractsync.adapters.secrets import SecretBox
from contractsync.bootstrap import partner_center_kit
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.context import ServiceContext
from contractsync.service.facade import ContractSync

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
R1, R2 = Actor("r1"), Actor("r2")

CONNECTION: dict[str, Any] = {
    "id": "k1",
    "reseller_id": "r1",
    "kind": "autotask",
    "username": "api@example.com",
    "secret": "s3cret",
    "integration_code": "CODE",
    "timezone": "Europe/Amsterdam",
}
SUBSCRIPTION: dict[str, Any] = {
    "id": "s1",
    "customer_id": "c1",
    "offer_id": "CFQ7TTC0LF8S:0001:0002",
    "offer_name": "Microsoft 365 E5",
    "kind": "nce",
    "quantity": 10,
    "term": "P1Y",
    "billing_cycle": "monthly",
    "start_date": "2026-01-15",
    "end_date": "2027-01-14",
    "auto_renew": True,
    "list_price": "10.00",
}


@dataclass(frozen=True)
class Threshold:
    limit: int = 10_000
    timeframe_minutes: int = 60
    current_count: int = 3


class StubConnector:
    """What saving credentials asks the PSA: one ThresholdInformation call."""

    def __init__(self, row: Any) -> None:
        self.row = row

    def threshold_information(self) -> Threshold:
        return Threshold()


@dataclass
class Service:
    facade: ContractSync
    data: MemoryData
    units: FakeUnitsOfWork
    clock: ManualClock


@pytest.fixture
def service() -> Service:
    units, clock = FakeUnitsOfWork(), ManualClock(NOW)
    secrets = SecretBox(SecretBox.new_key().encode())
    outbound = OutboundPolicy()
    context = ServiceContext(
        units, clock, secrets, StubConnector, outbound, partner_center_kit(secrets, outbound)
    )
    return Service(ContractSync(context), units.data, units, clock)


@pytest.fixture
def directory(service: Service) -> Service:
    """Resellers r1 and r2, r1's connection k1, customer c1 and subscription s1; r2's customer c2."""
    facade = service.facade
    for reseller in ("r1", "r2"):
        facade.create_reseller(ADMIN, {"id": reseller, "name": f"Reseller {reseller}"})
    facade.create_connection(ADMIN, CONNECTION)
    facade.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso"})
    facade.create_customer(ADMIN, {"id": "c2", "reseller_id": "r2", "name": "Fabrikam"})
    facade.create_subscription(ADMIN, SUBSCRIPTION)
    return service
