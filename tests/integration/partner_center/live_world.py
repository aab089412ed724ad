"""The Partner Center live source against the Partner Center sandbox over HTTPS, with the real
service and database (SQLite and PostgreSQL) and Autotask (its sandbox, in-process) behind the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.tables import contracts
from contractsync.adapters.partner_center.factory import client_for_source
from contractsync.bootstrap import build_app_service
from contractsync.partner_center_sandbox.server import PartnerCenterSandbox
from contractsync.partner_center_sandbox.state import OFFERS, SandboxConfig
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.service.partner_center import PartnerCenter
from tests.integration.partner_center.world import settings
from tests.sandbox_autotask import SandboxAutotask

TODAY = date(2024, 6, 3)
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
#: A list price for every offer the sandbox seeds with (by productId:skuId).
PRICES = {":".join(offer.split(":")[:2]): f"{10 + i}.50" for i, (offer, _) in enumerate(OFFERS)}


@dataclass
class LiveWorld:
    service: ContractSync
    center: PartnerCenter
    pc: PartnerCenterSandbox
    autotask: SandboxAutotask
    clock: ManualClock
    sleeps: list[float] = field(default_factory=list)
    #: connectors by connection id (default: `autotask`'s), e.g. one to another Autotask sandbox
    connectors: dict[str, Any] = field(default_factory=dict)
    _mapped: int = 0

    def poll(self) -> dict[str, Any]:
        return self.center.poll(ADMIN, "pc1")

    def operations(self) -> list[dict[str, Any]]:
        return list(self.service.list_operations(ADMIN, page_size=200)["items"])

    def operation_total(self) -> int:
        return int(self.service.list_operations(ADMIN)["total"])

    def map(self, *subscription_ids: str) -> None:
        """Map each subscription to its own contract service (contract 100 runs 2024 to 2026)."""
        start, end = date(2024, 1, 1), date(2026, 12, 31)
        with self.service.context.sessions.begin() as session:
            if session.execute(select(contracts).where(contracts.c.contract_id == 100)).first() is None:
                session.execute(
                    insert(contracts).values(
                        connection_id="at1", contract_id=100, start_date=start, end_date=end,
                        period_type="monthly", posted_through=None,
                    )
                )  # fmt: skip
        self.autotask.contract(100, start, end)
        for subscription_id in subscription_ids:
            self._mapped += 1
            self.autotask.contract_services({1000 + self._mapped: 100}, service_id=self._mapped)
            self.service.map_subscription(
                ADMIN,
                {"subscription_id": subscription_id, "connection_id": "at1", "contract_id": 100,
                 "service_id": self._mapped, "contract_service_id": 1000 + self._mapped},
            )  # fmt: skip

    def customer_ids(self, index: int) -> tuple[str, str]:
        """(tenant id, first subscription id) of the seeded customer number `index`."""
        tenant = list(self.pc.state.customers)[index]
        return tenant, next(iter(self.pc.state.subscriptions[tenant]))


@pytest.fixture
def live(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[LiveWorld]:
    seed = getattr(request, "param", "3x2")
    with (
        PartnerCenterSandbox(tmp_path / "pc", SandboxConfig(seed=seed, today=lambda: TODAY)) as pc,
        SandboxAutotask() as autotask,
    ):
        # Settings reads them (the sandbox's address, its certificate authority, its signing certificate).
        monkeypatch.setenv("CONTRACTSYNC_PSA_ALLOWED_HOSTS", pc.host_port)
        monkeypatch.setenv("CONTRACTSYNC_PARTNER_CENTER_CA_FILE", str(pc.ca_file))
        monkeypatch.setenv("CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES", pc.webhook_certificate_url)
        # The sandbox signs with a certificate from its own test CA, trusted here by configuration.
        monkeypatch.setenv("CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_TRUST_FILE", str(pc.webhook_ca_file))
        monkeypatch.setenv("CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_ORGANIZATION", pc.webhook_organization)
        clock = ManualClock(NOW)
        connectors: dict[str, Any] = {}
        service = build_app_service(
            settings(database_url, tmp_path),
            clock=clock,
            connector_factory=lambda row: connectors.get(row.id, autotask.connector),
            upgrade=False,
        )
        service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
        service.create_connection(
            ADMIN,
            {
                "id": "at1", "reseller_id": "r1", "kind": "autotask", "username": "api@example.com",
                "secret": "s3cret", "integration_code": "CODE", "base_url": "https://webservices99.autotask.net",
                "timezone": "UTC", "settle_seconds": 600, "policies": {"upgrade": "auto"},
            },
        )  # fmt: skip
        sleeps: list[float] = []
        secrets, outbound = service.context.secrets, service.context.outbound
        center = PartnerCenter(
            service,
            lambda row, store: client_for_source(row, secrets, store, outbound=outbound, sleep=sleeps.append),
        )
        center.create_source(
            ADMIN,
            {
                "id": "pc1", "reseller_id": "r1", "tenant_id": pc.config.partner_tenant,
                "application_id": pc.config.client_id, "secret": pc.config.client_secret,
                "refresh_token": pc.config.refresh_token, "authority_host": pc.base_url,
                "api_root": pc.api_root, "price_list": PRICES,
            },
        )  # fmt: skip
        yield LiveWorld(service, center, pc, autotask, clock, sleeps, connectors)
        assert autotask.violations() == []
