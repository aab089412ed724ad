"""A real service on the test database, the Autotask sandbox over HTTP and the real worker, with
a manual clock: the world the reconciliation tests inject drift into."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from contractsync.adapters.clock import ManualClock
from contractsync.bootstrap import build_app_service
from contractsync.sandbox.server import SandboxServer
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings

CONTRACT_ID, SERVICE_ID, COMPANY_ID = 701, 601, 501
CONTRACT_START, CONTRACT_END = date(2024, 1, 1), date(2026, 12, 31)
START = datetime(2024, 5, 20, 9, tzinfo=UTC)
SERVICES = 300
UNIT_PRICE, UNIT_COST = Decimal("12.0000"), Decimal("10.0000")  # list 10.00 + 20 % margin


@dataclass
class SandboxWorld:
    service: ContractSync
    clock: ManualClock
    sandbox: SandboxServer
    subscriptions: int = 0
    services: dict[str, int] = field(default_factory=dict)  # subscription → contract service

    def deliver(self) -> None:
        for _ in range(5):  # a correction re-reads first; a moved row is sent in a later round
            if not self.service.run_deliveries(ADMIN)["steps"]:
                return

    def new_subscription(self, quantity: int) -> str:
        self.subscriptions += 1
        subscription_id = f"s{self.subscriptions}"
        self.service.create_subscription(ADMIN, {
            "id": subscription_id, "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001",
            "offer_name": "Microsoft 365 E5", "kind": "nce", "quantity": quantity, "term": "P1Y",
            "billing_cycle": "monthly", "start_date": "2024-01-15", "end_date": "2025-01-14",
            "auto_renew": True, "list_price": "10.00",
        })  # fmt: skip
        self.service.map_subscription(ADMIN, {
            "subscription_id": subscription_id, "connection_id": "at1", "contract_id": CONTRACT_ID,
            "service_id": SERVICE_ID + self.subscriptions - 1,
        })  # fmt: skip
        mapping = self.service.get_subscription(ADMIN, subscription_id)["mapping"]
        self.services[subscription_id] = int(mapping["contract_service_id"])
        return subscription_id

    def alerts(self, kind: str, actor: Actor = ADMIN, state: str = "open") -> list[dict[str, Any]]:
        """The alerts of one kind the actor sees, in that state."""
        return [a for a in self.service.list_alerts(actor, state) if a["kind"] == kind]

    def units_rows(self, contract_service_id: int) -> list[dict[str, Any]]:
        body = {
            "filter": [{"op": "eq", "field": "contractServiceID", "value": contract_service_id}],
            "MaxRecords": 500,
        }
        response = httpx.post(
            f"{self.sandbox.api_url}/ContractServiceUnits/query",
            json=body,
            headers=self.sandbox.headers,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def autotask_on(self, contract_service_id: int, day: date) -> tuple[int, Decimal, Decimal]:
        for row in self.units_rows(contract_service_id):
            if row["startDate"][:10] <= day.isoformat() <= row["endDate"][:10]:
                return int(row["units"]), Decimal(str(row["price"])), Decimal(str(row["cost"]))
        raise AssertionError(f"Autotask has no row on {day}")

    def timeline(self, contract_service_id: int) -> list[tuple[date, date, int, Decimal]]:
        return sorted(
            (date.fromisoformat(r["startDate"][:10]), date.fromisoformat(r["endDate"][:10]), int(r["units"]),
             Decimal(str(r["price"])))
            for r in self.units_rows(contract_service_id)
        )  # fmt: skip

    def edit_by_hand(self, contract_service_id: int, day: date, unit_change: int, price: Decimal) -> bool:
        """An adjustment made in Autotask by someone else; False when Autotask refused it."""
        _, _, cost = self.autotask_on(contract_service_id, day)
        body = {
            "contractID": CONTRACT_ID, "contractServiceID": contract_service_id, "effectiveDate": day.isoformat(),
            "unitChange": unit_change, "adjustedUnitPrice": str(price), "adjustedUnitCost": str(cost),
        }  # fmt: skip
        response = httpx.post(
            f"{self.sandbox.api_url}/ContractServiceAdjustments",
            json=body,
            headers=self.sandbox.headers,
            timeout=10,
        )
        return response.status_code == 200


def sandbox_world(database_url: str, tmp_path: Path) -> Iterator[SandboxWorld]:
    clock = ManualClock(START)
    with SandboxServer() as sandbox:
        settings = Settings(
            database_url=database_url,
            secret_key=Fernet.generate_key().decode(),
            data_dir=tmp_path,
            psa_allowed_hosts=sandbox.allowed_host,  # as the demo allows its own sandbox
        )
        service = build_app_service(settings, clock=clock, upgrade=False)
        contract = {
            "contractType": 7, "contractPeriodType": 1, "status": 1,
            "startDate": f"{CONTRACT_START}T00:00:00", "endDate": f"{CONTRACT_END}T00:00:00",
        }  # fmt: skip
        seed = {
            "companies": [{"id": COMPANY_ID, "companyName": "Contoso Ltd", "companyType": 1, "phone": "+1 555 0100",
                           "ownerResourceID": 29682885}],
            # One service per subscription: a contract holds each service once.
            "services": [{"id": SERVICE_ID + n, "name": f"Microsoft 365 E5 #{n}", "unitCost": "10.0000",
                          "unitPrice": "12.0000", "periodType": 1} for n in range(SERVICES)],
            "contracts": [{"id": CONTRACT_ID, "companyID": COMPANY_ID, "contractName": "Contoso CSP", **contract}],
        }  # fmt: skip
        response = httpx.post(f"{sandbox.base_url}/sandbox/seed", json=seed, timeout=10)
        assert response.status_code == 200, response.text
        service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
        service.create_connection(ADMIN, {
            "id": "at1", "reseller_id": "r1", "kind": "autotask", "username": sandbox.username,
            "secret": sandbox.secret, "integration_code": sandbox.integration_code, "base_url": sandbox.base_url,
            "timezone": "UTC", "settle_seconds": 0,
        })  # fmt: skip
        service.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso",
                                        "provider_margins": {"microsoft": "20"}})  # fmt: skip
        service.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "at1", "company_id": COMPANY_ID})
        yield SandboxWorld(service, clock, sandbox)
    service.context.sessions.kw["bind"].dispose()
