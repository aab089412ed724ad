"""A real service on the test database, with Autotask (the sandbox, in-process, through the real
connector) and a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.tables import contracts
from contractsync.bootstrap import build_app_service
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from tests.sandbox_autotask import PortOnly, SandboxAutotask

#: The contract services of contract 100 (service 7) the tests map subscriptions to.
CONTRACT_SERVICES = [1000, 1001, 1002, 2001, 2002, 3001, *range(4000, 4005), 4999]


@dataclass
class World:
    service: ContractSync
    clock: ManualClock
    autotask: SandboxAutotask
    #: the connector every connection of the service gets (`autotask.connector` unless replaced)
    connectors: dict[str, Any]

    def learn_posted_periods_from_refusals(self) -> None:
        """From now on the worker cannot read posted periods before sending (`PortOnly`)."""
        self.connectors["psa"] = PortOnly(self.autotask.connector)

    def deliver(self) -> None:
        self.service.run_deliveries(ADMIN)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(datetime(2024, 5, 20, 9, tzinfo=UTC))
    autotask = SandboxAutotask().start()
    autotask.contract(100, date(2024, 1, 1), date(2026, 12, 31))
    autotask.contract_services(dict.fromkeys(CONTRACT_SERVICES, 100), service_id=7)
    connectors: dict[str, Any] = {"psa": autotask.connector}
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    service = build_app_service(
        settings, clock=clock, connector_factory=lambda row: connectors["psa"], upgrade=False
    )
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
    service.create_reseller(ADMIN, {"id": "r2", "name": "Reseller Two"})
    for reseller in ("r1", "r2"):
        service.create_connection(ADMIN, {
            "id": f"at-{reseller}", "reseller_id": reseller, "kind": "autotask", "username": "api@example.com",
            "secret": "do-not-leak", "integration_code": "CODE", "timezone": "UTC", "settle_seconds": 0,
        })  # fmt: skip
        service.create_customer(ADMIN, {"id": f"c-{reseller}", "reseller_id": reseller, "name": "Contoso",
                                        "provider_margins": {"microsoft": "20"}})  # fmt: skip
    service.create_subscription(ADMIN, {
        "id": "s1", "customer_id": "c-r1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5",
        "kind": "nce", "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2024-01-15",
        "end_date": "2025-01-14", "auto_renew": True, "list_price": "10.00",
    })  # fmt: skip
    with service.context.sessions.begin() as session:
        session.execute(insert(contracts).values(connection_id="at-r1", contract_id=100, start_date=date(2024, 1, 1),
                                                 end_date=date(2026, 12, 31), period_type="monthly"))  # fmt: skip
    yield World(service, clock, autotask, connectors)
    service.context.sessions.kw["bind"].dispose()
    autotask.stop()
    assert autotask.violations() == [], "requests or answers that do not match the vendor document"


def map_s1(world: World) -> dict[str, object]:
    return world.service.map_subscription(ADMIN, {"subscription_id": "s1", "connection_id": "at-r1", "contract_id": 100,
                                                  "service_id": 7, "contract_service_id": 1000})  # fmt: skip
