"""A real service (database, rules, outbox) with one reseller, connection and customer, for X3 tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.tables import contracts
from contractsync.adapters.partner_center import PartnerCenterDocument, parse_document
from contractsync.bootstrap import build_app_service
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.service.partner_center_import import ImportReport, import_partner_center
from contractsync.settings import Settings
from tests.sandbox_autotask import SandboxAutotask

NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
TENANT = "0a8f6c2e-1d3b-4c5a-9e7f-2b4d6f8a0c1e"
SUB = "5b2c9d1e-7f3a-4e6b-8c0d-1a2b3c4d5e6f"
OFFER = "CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9"
SECRET_KEY = "x" * 43 + "="


def settings(database_url: str, tmp: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp, secret_key=SECRET_KEY)


@dataclass
class World:
    service: ContractSync
    autotask: SandboxAutotask

    def subscription(self, subscription_id: str = SUB, **changes: Any) -> dict[str, Any]:
        body = {
            "id": subscription_id,
            "customer_id": "c1",
            "offer_id": OFFER,
            "offer_name": "Office 365 E5",
            "kind": "nce",
            "quantity": 10,
            "term": "P1Y",
            "billing_cycle": "monthly",
            "start_date": "2024-01-15",
            "end_date": "2025-01-14",
            "auto_renew": True,
            "list_price": "30.40",
            "friendly_name": "E5",
        }
        body.update(changes)
        return self.service.create_subscription(ADMIN, body)

    def map(
        self, subscription_id: str = SUB, contract_id: int = 100, contract_service_id: int = 1000
    ) -> None:
        """Map through a contract that runs all of 2024 to 2026, as replay.py does for scenarios."""
        start, end = date(2024, 1, 1), date(2026, 12, 31)
        with self.service.context.sessions.begin() as session:
            session.execute(
                insert(contracts).values(
                    connection_id="at1", contract_id=contract_id, start_date=start, end_date=end,
                    period_type="monthly", posted_through=None,
                )
            )  # fmt: skip
        self.autotask.contract(contract_id, start, end)
        self.autotask.contract_services({contract_service_id: contract_id})
        self.service.map_subscription(
            ADMIN,
            {
                "subscription_id": subscription_id,
                "connection_id": "at1",
                "contract_id": contract_id,
                "service_id": 1,
                "contract_service_id": contract_service_id,
            },
        )

    def run(self, *documents: dict[str, Any] | Path, preview: bool = False, **options: Any) -> ImportReport:
        return import_partner_center(
            self.service, ADMIN, [document(d) for d in documents], preview=preview, **options
        )

    def operation_count(self) -> int:
        return int(self.service.list_operations(ADMIN)["total"])


def document(source: dict[str, Any] | Path) -> PartnerCenterDocument:
    if isinstance(source, Path):
        return parse_document(source.read_bytes(), source.name)
    return parse_document(json.dumps(source), "test.json")


def build_world(database_url: str, tmp: Path, autotask: SandboxAutotask) -> World:
    """The world, with `autotask` (started) as the connection's Autotask."""
    connector = autotask.connector
    service = build_app_service(
        settings(database_url, tmp),
        clock=ManualClock(NOW),
        connector_factory=lambda row: connector,
        upgrade=False,
    )
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
    service.create_connection(
        ADMIN,
        {
            "id": "at1", "reseller_id": "r1", "kind": "autotask", "username": "api@example.com",
            "secret": "s3cret", "integration_code": "CODE", "base_url": "https://webservices99.autotask.net",
            "timezone": "UTC", "settle_seconds": 600,
        },
    )  # fmt: skip
    service.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso", "tenant_id": TENANT})
    return World(service, autotask)


def partner_center(subscription_id: str = SUB, **changes: Any) -> dict[str, Any]:
    """A Partner Center subscription as the API answers it, in PascalCase as some exports write it."""
    record: dict[str, Any] = {
        "Id": subscription_id.upper(),
        "OfferId": OFFER,
        "OfferName": "Office 365 E5",
        "FriendlyName": "E5",
        "ProductType": {"Id": "OnlineServicesNCE"},
        "Quantity": 10,
        "EffectiveStartDate": "2024-01-15T10:11:12.1234567Z",
        "CommitmentEndDate": "2025-01-14T00:00:00Z",
        "Status": "Active",
        "AutoRenewEnabled": True,
        "BillingCycle": "Monthly",
        "TermDuration": "P1Y",
        "Links": {"Self": {"Uri": f"/customers/{TENANT}/subscriptions/{subscription_id}"}},
        "Attributes": {"ObjectType": "Subscription"},
    }
    record.update(changes)
    return record
