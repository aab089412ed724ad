"""Mapping a subscription whose contract service does not exist yet: the PSA write goes through
the outbox (`service_creations`), is delivered at once and by the worker, and no PSA call is made
while a database transaction is open (issue 12, item 4). Real database (SQLite and PostgreSQL),
the real service, worker and Autotask connector, the Autotask sandbox over HTTP with its faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, event, select

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.service_creations_table import service_creations
from contractsync.bootstrap import build_app_service, connector_cache
from contractsync.sandbox.server import SandboxServer
from contractsync.service import map_subscription as map_subscription_module
from contractsync.service.actor import ADMIN
from contractsync.service.context import Leases
from contractsync.service.create_contract_services import lease_end
from contractsync.service.errors import Conflict
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings

CONTRACT, SERVICE, OTHER_SERVICE, COMPANY = 701, 601, 602, 501
#: connector methods that never call Autotask (the request and the exchange kept for the audit record)
LOCAL = {"request_record", "last_exchange_json", "last_exchange"}


class OpenTransactions:
    """Counts the database transactions each thread has open on an engine (begun, not yet ended):
    a PSA call must find none open on its own thread (the worker's heartbeat renews leases in
    transactions of its own meanwhile)."""

    def __init__(self, engine: Engine) -> None:
        self._local = threading.local()
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    @property
    def open(self) -> int:
        return int(getattr(self._local, "open", 0))

    def _begin(self, connection: Any) -> None:
        self._local.open = self.open + 1

    def _end(self, connection: Any) -> None:
        self._local.open = max(0, self.open - 1)


@dataclass
class Watched:
    """The real connector, noting how many database transactions are open at each call; before a
    create it arms the sandbox fault queued in `faults` (so the reads before it are not hit), and
    `die_after_create` makes the call fail untyped after the sandbox applied it."""

    connector: Any
    transactions: OpenTransactions
    sandbox: SandboxServer
    faults: list[dict[str, Any]] = field(default_factory=list)
    die_after_create: bool = False
    open_during_calls: list[int] = field(default_factory=list)
    called: list[str] = field(default_factory=list)
    creates: int = 0

    def create_contract_service(self, *args: Any) -> int:
        self.creates += 1
        if self.faults:
            fault = {"endpoint": "ContractServices", "count": 1, **self.faults.pop(0)}
            httpx.post(f"{self.sandbox.base_url}/sandbox/faults", json=fault, timeout=10).raise_for_status()
        created = self._call("create_contract_service", *args)
        if self.die_after_create:
            self.die_after_create = False
            raise RuntimeError("the worker lost its connection after sending")
        return int(created)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.open_during_calls.append(self.transactions.open)
        self.called.append(name)
        return getattr(self.connector, name)(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.connector, name)
        if not callable(method) or name in LOCAL:
            return method
        return lambda *args, **kwargs: self._call(name, *args, **kwargs)


@dataclass
class World:
    service: ContractSync
    clock: ManualClock
    psa: Watched
    engine: Engine

    def map_s1(self, service_id: int = SERVICE) -> dict[str, Any]:
        body = {
            "subscription_id": "s1",
            "connection_id": "at1",
            "contract_id": CONTRACT,
            "service_id": service_id,
        }
        return self.service.map_subscription(ADMIN, body)

    def mapping(self) -> Any:
        return self.service.get_subscription(ADMIN, "s1")["mapping"]

    def lines(self) -> list[Any]:
        """The contract's service lines in the sandbox (read past the watch)."""
        return list(self.psa.connector.find_contract_services(CONTRACT))

    def lease_of(self, creation_id: int) -> datetime:
        """Until when the creation's claim holds (read through the repository, so with its zone)."""
        with self.service.context.units(commit=False) as uow:
            creation = uow.service_creations.get(creation_id)
        assert creation is not None and creation.lease_expires_at is not None
        return creation.lease_expires_at

    def creations(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(service_creations).order_by(service_creations.c.id)))


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(datetime(2024, 5, 20, 9, tzinfo=UTC))
    with SandboxServer() as sandbox:
        settings = Settings(database_url=database_url, secret_key=Fernet.generate_key().decode(),
                            data_dir=tmp_path, psa_allowed_hosts=sandbox.allowed_host)  # fmt: skip
        seed = {
            "companies": [{"id": COMPANY, "companyName": "Contoso Ltd", "companyType": 1, "phone": "+1 555 0100",
                           "ownerResourceID": 29682885}],
            "services": [{"id": SERVICE, "name": "Microsoft 365 E5", "unitCost": "10.0000", "unitPrice": "12.0000",
                          "periodType": 1}],
            "contracts": [{"id": CONTRACT, "companyID": COMPANY, "contractName": "Contoso CSP", "contractType": 7,
                           "contractPeriodType": 1, "status": 1, "startDate": "2024-01-01T00:00:00",
                           "endDate": "2026-12-31T00:00:00"}],
        }  # fmt: skip
        httpx.post(f"{sandbox.base_url}/sandbox/seed", json=seed, timeout=10).raise_for_status()
        cache = connector_cache(settings)
        watched: list[Watched] = []
        service = build_app_service(
            settings,
            clock=clock,
            connector_factory=lambda row: watched[0] if watched else cache(row),
            upgrade=False,
        )
        engine = service.context.sessions.kw["bind"]
        service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
        service.create_connection(ADMIN, {
            "id": "at1", "reseller_id": "r1", "kind": "autotask", "username": sandbox.username,
            "secret": sandbox.secret, "integration_code": sandbox.integration_code, "base_url": sandbox.base_url,
            "timezone": "UTC", "settle_seconds": 0,
        })  # fmt: skip
        with service.context.units(commit=False) as uow:
            connection = uow.directory.connection("at1")
        watched.append(Watched(cache(connection), OpenTransactions(engine), sandbox))
        service.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso",
                                        "provider_margins": {"microsoft": "20"}})  # fmt: skip
        service.create_subscription(ADMIN, {
            "id": "s1", "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5",
            "kind": "nce", "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2024-01-15",
            "end_date": "2025-01-14", "auto_renew": True, "list_price": "10.00",
        })  # fmt: skip
        yield World(service, clock, watched[0], engine)
    engine.dispose()


def test_a_new_contract_service_is_created_outside_any_transaction_and_mapped(world: World) -> None:
    record = world.map_s1()

    assert world.psa.creates == 1
    [line] = world.lines()
    assert line.service_id == SERVICE and (line.unit_price, line.unit_cost) == (12, 10)
    assert record["type"] == "CreateConnectionSubscriptionMapping"
    assert [a["contract_service_id"] for a in record["adjustments"]] == [line.id]
    assert record["adjustments"][0]["target_units"] == 10
    assert world.mapping()["contract_service_id"] == line.id
    [creation] = world.creations()
    assert (creation.status, creation.contract_service_id, creation.operation_id) == (
        "sent",
        line.id,
        record["id"],
    )
    world.service.run_deliveries(ADMIN)
    assert world.service.get_subscription(ADMIN, "s1")["sync_state"] == "synced"
    # (a new connection's credentials are checked in the background: ThresholdInformation)
    # (then the Autotask names the console shows are stored once: company, contract, service)
    assert [name for name in world.psa.called if name != "threshold_information"] == [
        "get_contract", "find_contract_services", "create_contract_service",
        "find_companies", "find_contracts", "find_services", "apply_target",
    ]  # fmt: skip
    assert set(world.psa.open_during_calls) == {0}  # the worker's calls too
    [logged] = world.service.list_operations(ADMIN, subscription_id="s1")["items"]
    assert logged["id"] == record["id"]  # one record for the mapping, as before


def test_an_existing_line_of_the_service_is_mapped_without_a_write(world: World) -> None:
    existing = world.psa.connector.create_contract_service(CONTRACT, SERVICE, Decimal("12"), Decimal("10"))
    record = world.map_s1()
    assert world.psa.creates == 0 and world.creations() == []
    assert world.mapping()["contract_service_id"] == existing
    assert [a["contract_service_id"] for a in record["adjustments"]] == [existing]
    assert set(world.psa.open_during_calls) == {0}


def test_a_throttled_creation_answers_pending_and_the_worker_delivers_it(world: World) -> None:
    world.psa.faults.append({"kind": "http_429"})
    record = world.map_s1()

    assert (record["status"], record["adjustments"]) == ("pending", [])
    assert "creating a contract service" in record["reason"]
    assert world.mapping() is None and world.lines() == []
    with pytest.raises(Conflict, match="being mapped"):
        world.map_s1()
    with pytest.raises(Conflict, match="still creating"):
        world.service.unmap_subscription(ADMIN, "s1")
    world.service.run_deliveries(ADMIN)  # not due yet: backing off
    assert world.psa.creates == 1

    world.clock.advance(60)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 2
    [line] = world.lines()
    assert world.mapping()["contract_service_id"] == line.id
    [answer] = world.service.list_operations(ADMIN, subscription_id="s1")["items"]
    assert answer["id"] == record["id"] and answer["status"] == "succeeded"
    assert [a["status"] for a in answer["adjustments"]] == ["sent"]
    assert set(world.psa.open_during_calls) == {0}


def test_a_worker_polling_before_the_first_attempt_leaves_the_creation_to_the_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The creation is written claimed by the request that maps: a worker looking for due
    creations between the request's commit and its first attempt finds none to claim (before, it
    claimed it, and the request answered `pending` while the worker was still creating it)."""
    first_attempt = map_subscription_module.attempt
    claimed_by_worker: list[int] = []

    def worker_polls_first(*args: Any, **kwargs: Any) -> bool:
        now = world.clock.now()
        with world.service.context.units() as uow:
            for creation_id in uow.service_creations.due(now, 10):
                if (
                    uow.service_creations.claim(creation_id, now, lease_end(world.service.context))
                    is not None
                ):
                    claimed_by_worker.append(creation_id)
        return first_attempt(*args, **kwargs)

    monkeypatch.setattr(map_subscription_module, "attempt", worker_polls_first)
    record = world.map_s1()
    assert claimed_by_worker == []
    assert world.psa.creates == 1 and record["adjustments"], record
    assert world.mapping()["contract_service_id"] == world.lines()[0].id


def test_a_subscription_whose_service_is_being_created_is_not_suggested_again(world: World) -> None:
    """Accepted, its contract service not created yet (throttled): accepting it again would be
    refused, so the suggestions leave it out until it is mapped, and after."""
    world.service.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "at1", "company_id": COMPANY})

    def suggested() -> list[str]:
        answer = world.service.subscription_suggestions(ADMIN, "at1")
        return [s["subscription_id"] for s in answer["subscriptions"] + answer["subscriptions_skipped"]]

    assert suggested() == ["s1"]
    world.psa.faults.append({"kind": "http_429"})
    [accepted] = world.service.accept_subscription_suggestions(ADMIN, {
        "connection_id": "at1",
        "subscriptions": [{"subscription_id": "s1", "contract_id": CONTRACT, "service_id": SERVICE}],
    })  # fmt: skip
    assert (accepted["status"], accepted["error"]) == ("pending", None)  # not "mapped": it is not, yet
    assert world.mapping() is None and [c.status for c in world.creations()] == ["pending"]
    assert suggested() == []
    world.clock.advance(60)
    world.service.run_deliveries(ADMIN)
    assert world.mapping() is not None
    assert suggested() == []


def test_an_accepted_suggestion_whose_service_autotask_refuses_to_create_is_refused(world: World) -> None:
    [accepted] = world.service.accept_subscription_suggestions(ADMIN, {
        "connection_id": "at1",
        "subscriptions": [{"subscription_id": "s1", "contract_id": CONTRACT, "service_id": OTHER_SERVICE}],
    })  # fmt: skip
    assert accepted["status"] == "refused"
    assert accepted["error"].startswith("Autotask did not create the contract service: ")
    assert world.mapping() is None


def test_an_unknown_outcome_is_looked_up_and_never_created_twice(world: World) -> None:
    world.psa.faults.append({"kind": "applied_then_500"})  # created, but the answer is a 500
    record = world.map_s1()
    assert record["status"] == "pending" and world.mapping() is None
    [line] = world.lines()

    world.clock.advance(60)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1 and world.lines() == [line]  # adopted, not created again
    assert world.mapping()["contract_service_id"] == line.id
    [creation] = world.creations()
    assert (creation.status, creation.attempts) == ("sent", 2)


def test_a_refused_creation_fails_the_record_and_the_subscription_can_be_mapped_again(world: World) -> None:
    record = world.map_s1(OTHER_SERVICE)  # no such service in Autotask

    assert record["status"] == "failed"
    assert record["reason"].startswith("Autotask did not create the contract service: ")
    assert world.mapping() is None and world.lines() == []
    [creation] = world.creations()
    assert (creation.status, creation.error_kind) == ("failed", "rejected")
    world.clock.advance(7200)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1  # a refusal is final

    again = world.map_s1()
    assert again["status"] == "pending" and again["adjustments"]
    assert world.mapping()["contract_service_id"] == world.lines()[0].id


def test_a_call_that_dies_untyped_is_tried_again_when_its_lease_ends(world: World) -> None:
    world.psa.die_after_create = True  # created in Autotask, then the call dies
    record = world.map_s1()
    assert record["status"] == "pending" and world.mapping() is None
    [creation] = world.creations()
    assert creation.status == "sending"  # claimed: nobody calls for it until the lease ends

    lease = world.service.context.leases.seconds
    assert lease == 30  # the default (CONTRACTSYNC_LEASE_SECONDS), not the five minutes it was
    world.clock.advance(lease - 1)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1 and world.mapping() is None

    world.clock.advance(2)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1 and len(world.lines()) == 1  # looked up and adopted
    assert world.mapping()["contract_service_id"] == world.lines()[0].id


def test_a_call_that_outlasts_its_lease_keeps_its_creation_and_creates_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A creation call may take long (waiting for the hourly request budget, a slow Autotask): its
    deliverer renews the lease meanwhile, so a worker polling then finds nothing due. Before, a
    worker took the creation over once the lease ran out, looked the line up before the first
    call had sent anything, found none, and created a second contract service."""
    world.service.context.leases = Leases(seconds=30, heartbeat_seconds=0.05)
    calling, release = threading.Event(), threading.Event()
    create = world.psa.create_contract_service
    calls: list[tuple[Any, ...]] = []

    def slow_create(*args: Any) -> int:
        calls.append(args)
        calling.set()
        assert release.wait(30)
        return create(*args)

    monkeypatch.setattr(world.psa, "create_contract_service", slow_create)
    answers: list[dict[str, Any]] = []
    request = threading.Thread(target=lambda: answers.append(world.map_s1()))
    request.start()
    try:
        assert calling.wait(30)
        [creation] = world.creations()
        world.clock.advance(300)  # long past the lease the request claimed it with
        deadline = time.monotonic() + 30
        while world.lease_of(creation.id) <= world.clock.now():
            assert time.monotonic() < deadline, "the lease was not renewed"
            time.sleep(0.02)
        world.service.run_deliveries(ADMIN)  # a worker polls while the call is in flight
        assert len(calls) == 1
    finally:
        release.set()
        request.join(30)
    [record] = answers
    assert record["adjustments"] and world.psa.creates == 1
    [line] = world.lines()
    assert world.mapping()["contract_service_id"] == line.id
    [creation] = world.creations()
    assert (creation.status, creation.attempts) == ("sent", 1)


def test_a_creation_autotask_keeps_failing_is_named_by_an_alert_until_it_lands(world: World) -> None:
    """The subscription's alert says it is being mapped and why it is not done yet, not merely
    "not mapped": a billing manager learns of a creation Autotask keeps failing."""
    world.service.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "at1", "company_id": COMPANY})

    def alert_of_s1() -> dict[str, Any] | None:
        found = [a for a in world.service.list_alerts(ADMIN) if a["subscription_id"] == "s1"]
        assert len(found) <= 1
        return found[0] if found else None

    alert = alert_of_s1()
    assert alert is not None and alert["message"].endswith("is not mapped")
    world.psa.faults.append({"kind": "http_500"})  # not applied; to contractsync, outcome unknown
    assert world.map_s1()["status"] == "pending"
    alert = alert_of_s1()
    assert alert is not None and alert["kind"] == "unmapped_subscription"
    assert (
        "is being mapped: Autotask has not created its contract service yet (1 attempt; last answer: "
        in (alert["message"])
    )
    assert alert["message"].endswith("; it is tried again")

    world.psa.faults.append({"kind": "http_500"})
    world.clock.advance(60)
    world.service.run_deliveries(ADMIN)
    again = alert_of_s1()
    assert (
        again is not None and again["id"] == alert["id"] and "(2 attempts; last answer: " in again["message"]
    )

    world.clock.advance(3600)
    world.service.run_deliveries(ADMIN)  # Autotask answers again: created and mapped
    assert world.psa.creates == 3 and len(world.lines()) == 1
    assert world.mapping() is not None and alert_of_s1() is None
    [resolved] = [a for a in world.service.list_alerts(ADMIN, "resolved") if a["subscription_id"] == "s1"]
    assert resolved["id"] == alert["id"]
