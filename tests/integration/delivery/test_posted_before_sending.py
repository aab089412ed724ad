"""Posted periods known before sending (SPEC §2, §3), against the Autotask sandbox over HTTP: a
back-dated adjustment into a period Autotask approved and posted is placed in the first open
period without a refused call, after one ContractServiceUnits query per contract; the refusal
stays the fallback for a period posted after that read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from contractsync.adapters.clock import ManualClock
from contractsync.bootstrap import build_app_service
from contractsync.sandbox.server import SandboxServer
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from tests.integration.delivery.sandbox_connection import connect_to_sandbox

CONTRACT, OTHER_CONTRACT = 701, 702
#: One Autotask service per subscription: a contract holds a service once.
SERVICES = {"s1": 601, "s2": 602, "s3": 603, "s4": 604}
POSTED = "Autotask has posted the contract periods through 2026-10-31"


@dataclass
class World:
    service: ContractSync
    clock: ManualClock
    sandbox: httpx.Client  # the sandbox's admin and Autotask routes
    headers: dict[str, str]

    def deliver(self) -> None:
        self.service.run_deliveries(ADMIN)

    def stats(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.sandbox.get("/sandbox/stats").json()
        return payload

    def post_periods(self, through: str, contract_id: int = CONTRACT) -> None:
        body = {"through": through, "contractID": contract_id}
        self.sandbox.post("/sandbox/post-periods", json=body).raise_for_status()

    def adjustments(self, subscription_id: str) -> list[tuple[str, int]]:
        """(effective date, unit change) of every adjustment the sandbox holds for the subscription."""
        contract_service_id = self.service.get_subscription(ADMIN, subscription_id)["mapping"][
            "contract_service_id"
        ]
        timeline = self.sandbox.get(f"/sandbox/contract-services/{contract_service_id}/timeline").json()
        changes, before, answer = timeline["changes"], 0, []
        for change in changes:
            if change["units"] != before:
                answer.append((change["date"], change["units"] - before))
            before = change["units"]
        return answer

    def back_dated(self, subscription_id: str, quantity: int, day: str) -> int:
        body = {"type": "update_quantity", "quantity": quantity, "effective_date": day}
        [record] = self.service.apply_operation(ADMIN, subscription_id, body)
        assert record["adjustments"][0]["effective_date"] == day  # contractsync does not know yet
        return int(record["id"])


def _seed(sandbox: SandboxServer) -> None:
    contract = {"companyID": 1, "contractType": 7, "contractPeriodType": 1, "status": 1,
                "startDate": "2026-01-01T00:00:00", "endDate": "2027-12-31T00:00:00"}  # fmt: skip
    body = {
        "companies": [{"id": 1, "companyName": "Contoso Ltd", "companyType": 1, "ownerResourceID": 1}],
        "services": [
            {"id": service_id, "name": f"Microsoft 365 E5 ({name})", "unitPrice": 12, "unitCost": 10}
            for name, service_id in SERVICES.items()
        ],
        "contracts": [
            {"id": CONTRACT, "contractName": "Contoso CSP", **contract},
            {"id": OTHER_CONTRACT, "contractName": "Contoso CSP 2", **contract},
        ],
    }
    httpx.post(f"{sandbox.base_url}/sandbox/seed", json=body, timeout=10).raise_for_status()


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(datetime(2026, 9, 10, 9, tzinfo=UTC))
    with SandboxServer() as sandbox, httpx.Client(base_url=sandbox.base_url, timeout=10) as client:
        settings = Settings(
            database_url=database_url,
            secret_key=Fernet.generate_key().decode(),
            data_dir=tmp_path,
            psa_allowed_hosts=sandbox.allowed_host,  # as the demo allows its own sandbox
        )
        service = build_app_service(settings, clock=clock, upgrade=False)
        _seed(sandbox)
        connect_to_sandbox(service, sandbox)
        service.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso",
                                        "provider_margins": {"microsoft": "20"}})  # fmt: skip
        service.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "at1", "company_id": 1})
        yield World(service, clock, client, sandbox.headers)
    service.context.sessions.kw["bind"].dispose()


def subscribe(world: World, subscription_id: str, contract_id: int = CONTRACT) -> None:
    """Mapped on 10 September with 10 seats, and delivered."""
    world.service.create_subscription(ADMIN, {
        "id": subscription_id, "customer_id": "c1", "offer_id": f"CFQ7TTC0LF8S:{subscription_id}",
        "offer_name": f"Microsoft 365 E5 {subscription_id}", "kind": "nce", "quantity": 10, "term": "P1Y",
        "billing_cycle": "monthly", "start_date": "2026-09-01", "end_date": "2027-08-31",
        "auto_renew": True, "list_price": "10.00",
    })  # fmt: skip
    world.service.map_subscription(ADMIN, {
        "subscription_id": subscription_id, "connection_id": "at1", "contract_id": contract_id,
        "service_id": SERVICES[subscription_id],
    })  # fmt: skip


def test_a_back_dated_change_into_a_posted_period_goes_to_the_first_open_one_unrefused(
    world: World,
) -> None:
    subscribe(world, "s1")
    world.deliver()
    world.clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    world.post_periods("2026-10-31")  # September and October approved and posted in Autotask
    before = world.stats()
    record_id = world.back_dated("s1", 14, "2026-10-15")
    world.deliver()
    after = world.stats()

    assert after["rejections"] == before["rejections"]  # Autotask refused nothing
    assert world.adjustments("s1") == [("2026-09-10", 10), ("2026-11-01", 4)]
    record = world.service.get_operation(ADMIN, record_id)
    assert record["status"] == "succeeded"
    assert record["reason"] == f"moved from 2026-10-15 to 2026-11-01: {POSTED}"
    assert record["notes"] == [record["reason"]]
    assert [(a["effective_date"], a["status"]) for a in record["adjustments"]] == [
        ("2026-10-15", "superseded"),
        ("2026-11-01", "sent"),
    ]
    # One read of the posted periods, one adjustment: two calls.
    assert _delta(before, after, "ContractServiceUnits") == 1
    assert _delta(before, after, "ContractServiceAdjustments") == 1
    # Learned for good: the next back-dated change is planned in November at once, with no read.
    body = {"type": "update_quantity", "quantity": 15, "effective_date": "2026-10-20"}
    [later] = world.service.apply_operation(ADMIN, "s1", body)
    assert later["adjustments"][0]["effective_date"] == "2026-11-02"  # 1 November is taken


def test_the_posted_periods_are_read_once_per_contract_not_once_per_service(world: World) -> None:
    for subscription_id in ("s1", "s2", "s3"):
        subscribe(world, subscription_id)
    subscribe(world, "s4", OTHER_CONTRACT)
    world.deliver()
    world.clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    world.post_periods("2026-10-31")
    world.post_periods("2026-09-30", OTHER_CONTRACT)
    before = world.stats()
    for subscription_id in ("s1", "s2", "s3", "s4"):
        world.back_dated(subscription_id, 12, "2026-10-05")
    world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 13})  # today
    world.deliver()
    after = world.stats()

    assert after["rejections"] == before["rejections"]
    assert _delta(before, after, "ContractServiceUnits") == 2  # one per contract
    for subscription_id in ("s2", "s3"):
        assert world.adjustments(subscription_id) == [("2026-09-10", 10), ("2026-11-01", 2)]
    assert world.adjustments("s1") == [("2026-09-10", 10), ("2026-11-01", 2), ("2026-11-10", 1)]
    # The other contract is posted through September only: October is open there.
    assert world.adjustments("s4") == [("2026-09-10", 10), ("2026-10-05", 2)]


def test_a_change_in_the_current_period_is_sent_without_a_read(world: World) -> None:
    subscribe(world, "s1")
    world.deliver()
    world.clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    before = world.stats()
    world.back_dated("s1", 11, "2026-11-03")
    world.deliver()
    after = world.stats()
    assert _delta(before, after, "ContractServiceUnits") == 0
    assert _delta(before, after, "ContractServiceAdjustments") == 1
    assert world.adjustments("s1") == [("2026-09-10", 10), ("2026-11-03", 1)]


def test_a_period_posted_after_the_read_is_still_learned_from_the_refusal(world: World) -> None:
    subscribe(world, "s1")
    subscribe(world, "s2")
    world.deliver()
    world.clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    world.back_dated("s1", 11, "2026-10-15")
    world.deliver()  # read: nothing posted; sent on 15 October
    assert world.adjustments("s1") == [("2026-09-10", 10), ("2026-10-15", 1)]
    world.post_periods("2026-10-31")  # posted right after contractsync looked
    record_id = world.back_dated("s2", 12, "2026-10-20")
    before = world.stats()
    world.deliver()
    after = world.stats()

    assert _delta(before, after, "ContractServiceUnits") == 0  # the read is still fresh
    assert after["rejections"].get("posted_period", 0) - before["rejections"].get("posted_period", 0) == 1
    assert world.adjustments("s2") == [("2026-09-10", 10), ("2026-11-01", 2)]
    record = world.service.get_operation(ADMIN, record_id)
    assert record["status"] == "succeeded"
    assert record["reason"] == (
        "moved from 2026-10-20 to 2026-11-01: Autotask has posted the period 2026-10-01–2026-10-31"
    )


def _delta(before: dict[str, Any], after: dict[str, Any], endpoint: str) -> int:
    return int(after["requests"].get(endpoint, 0)) - int(before["requests"].get(endpoint, 0))
