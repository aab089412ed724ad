"""Mapping a subscription whose contract service does not exist yet: the PSA write goes through
the outbox (`service_creations`), is delivered at once and by the worker, and no PSA call is made
while a database transaction is open (issue 12, item 4). Real database (SQLite and PostgreSQL),
the real service and worker; the PSA is FakeAutotask with contract service lines on top."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.service_creations_table import service_creations
from contractsync.bootstrap import build_app_service
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Conflict
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from tests.fakes.fake_autotask import FakeAutotask

CONTRACT, SERVICE = 100, 7


@dataclass(frozen=True)
class Line:
    id: int
    contract_id: int
    service_id: int


@dataclass(frozen=True)
class Contract:
    id: int
    start_date: date
    end_date: date
    period_type: int = 1


class OpenTransactions:
    """Counts the database transactions open on an engine (begun, not yet ended)."""

    def __init__(self, engine: Engine) -> None:
        self.open = 0
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, connection: Any) -> None:
        self.open += 1

    def _end(self, connection: Any) -> None:
        self.open = max(0, self.open - 1)


@dataclass
class Psa:
    """FakeAutotask (adjustments, units) plus a contract's service lines; every call notes how many
    database transactions were open; `failures` are raised by the next creates, in order (a
    `(error, True)` pair: raised after the line was created, as a timeout after sending)."""

    autotask: FakeAutotask
    transactions: OpenTransactions | None = None
    lines: list[Line] = field(default_factory=list)
    failures: list[tuple[Exception, bool]] = field(default_factory=list)
    open_during_calls: list[int] = field(default_factory=list)
    creates: int = 0

    def _call(self) -> None:
        self.open_during_calls.append(self.transactions.open if self.transactions else 0)

    def get_contract(self, contract_id: int) -> Contract:
        self._call()
        return Contract(contract_id, date(2024, 1, 1), date(2026, 12, 31))

    def find_contract_services(self, contract_id: int) -> list[Line]:
        self._call()
        return [line for line in self.lines if line.contract_id == contract_id]

    def create_contract_service(
        self, contract_id: int, service_id: int, price: Decimal, cost: Decimal
    ) -> int:
        self._call()
        self.creates += 1
        error, applied = self.failures.pop(0) if self.failures else (None, True)
        if applied:
            self.lines.append(Line(5000 + len(self.lines), contract_id, service_id))
        if error is not None:
            raise error
        return self.lines[-1].id

    def __getattr__(self, name: str) -> Any:  # adjustments and units: FakeAutotask's
        return getattr(self.autotask, name)


@dataclass
class World:
    service: ContractSync
    clock: ManualClock
    psa: Psa
    engine: Engine

    def map_s1(self) -> dict[str, Any]:
        body = {
            "subscription_id": "s1",
            "connection_id": "at1",
            "contract_id": CONTRACT,
            "service_id": SERVICE,
        }
        return self.service.map_subscription(ADMIN, body)

    def mapping(self) -> Any:
        return self.service.get_subscription(ADMIN, "s1")["mapping"]

    def creations(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(service_creations).order_by(service_creations.c.id)))


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(datetime(2024, 5, 20, 9, tzinfo=UTC))
    psa = Psa(FakeAutotask(tmp_path / "autotask.db"))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    service = build_app_service(settings, clock=clock, connector_factory=lambda row: psa, upgrade=False)
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
    service.create_connection(ADMIN, {
        "id": "at1", "reseller_id": "r1", "kind": "autotask", "username": "api@example.com",
        "secret": "do-not-leak", "integration_code": "CODE", "timezone": "UTC", "settle_seconds": 0,
    })  # fmt: skip
    service.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso",
                                    "provider_margins": {"microsoft": "20"}})  # fmt: skip
    service.create_subscription(ADMIN, {
        "id": "s1", "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5",
        "kind": "nce", "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2024-01-15",
        "end_date": "2025-01-14", "auto_renew": True, "list_price": "10.00",
    })  # fmt: skip
    psa.autotask.set_contract(CONTRACT, date(2024, 1, 1), date(2026, 12, 31))
    engine = service.context.sessions.kw["bind"]
    psa.transactions = OpenTransactions(engine)
    yield World(service, clock, psa, engine)
    engine.dispose()


def test_a_new_contract_service_is_created_outside_any_transaction_and_mapped(world: World) -> None:
    record = world.map_s1()

    assert world.psa.creates == 1
    assert world.psa.open_during_calls and set(world.psa.open_during_calls) == {0}
    created = world.psa.lines[0].id
    assert record["type"] == "CreateConnectionSubscriptionMapping"
    assert [a["contract_service_id"] for a in record["adjustments"]] == [created]
    assert record["adjustments"][0]["target_units"] == 10
    assert world.mapping()["contract_service_id"] == created
    [creation] = world.creations()
    assert (creation.status, creation.contract_service_id, creation.operation_id) == (
        "sent",
        created,
        record["id"],
    )
    assert (creation.unit_price, creation.unit_cost) == (Decimal("12.0000"), Decimal("10.0000"))
    world.service.run_deliveries(ADMIN)
    assert world.service.get_subscription(ADMIN, "s1")["sync_state"] == "synced"
    assert set(world.psa.open_during_calls) == {0}  # the worker's calls too
    [logged] = world.service.list_operations(ADMIN, subscription_id="s1")["items"]
    assert logged["id"] == record["id"]  # one record for the mapping, as before


def test_an_existing_line_of_the_service_is_mapped_without_a_write(world: World) -> None:
    world.psa.lines.append(Line(4242, CONTRACT, SERVICE))
    record = world.map_s1()
    assert world.psa.creates == 0 and world.creations() == []
    assert world.mapping()["contract_service_id"] == 4242
    assert [a["contract_service_id"] for a in record["adjustments"]] == [4242]
    assert set(world.psa.open_during_calls) == {0}


def test_a_throttled_creation_answers_pending_and_the_worker_delivers_it(world: World) -> None:
    world.psa.failures.append((PsaError(ErrorKind.THROTTLED, "429 Too Many Requests", 429), False))
    record = world.map_s1()

    assert (record["status"], record["adjustments"]) == ("pending", [])
    assert "creating a contract service" in record["reason"]
    assert world.mapping() is None
    with pytest.raises(Conflict, match="being mapped"):
        world.map_s1()
    with pytest.raises(Conflict, match="still creating"):
        world.service.unmap_subscription(ADMIN, "s1")
    world.service.run_deliveries(ADMIN)  # not due yet: backing off
    assert world.psa.creates == 1

    world.clock.advance(60)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 2
    assert world.mapping()["contract_service_id"] == world.psa.lines[0].id
    [answer] = world.service.list_operations(ADMIN, subscription_id="s1")["items"]
    assert answer["id"] == record["id"] and answer["status"] == "succeeded"
    assert [a["status"] for a in answer["adjustments"]] == ["sent"]
    assert set(world.psa.open_during_calls) == {0}


def test_an_unknown_outcome_is_looked_up_and_never_created_twice(world: World) -> None:
    world.psa.failures.append((PsaError(ErrorKind.TIMEOUT_AFTER_SEND, "read timeout"), True))
    record = world.map_s1()
    assert record["status"] == "pending" and world.mapping() is None

    world.clock.advance(60)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1 and len(world.psa.lines) == 1  # adopted, not created again
    assert world.mapping()["contract_service_id"] == world.psa.lines[0].id
    [creation] = world.creations()
    assert (creation.status, creation.attempts) == ("sent", 2)


def test_a_refused_creation_fails_the_record_and_the_subscription_can_be_mapped_again(world: World) -> None:
    world.psa.failures.append(
        (PsaError(ErrorKind.REJECTED, "serviceID: the service is inactive", 500), False)
    )
    record = world.map_s1()

    assert record["status"] == "failed"
    assert "did not create the contract service: serviceID: the service is inactive" in record["reason"]
    assert world.mapping() is None
    [creation] = world.creations()
    assert (creation.status, creation.error_kind) == ("failed", "rejected")
    world.clock.advance(7200)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1  # a refusal is final

    again = world.map_s1()
    assert again["status"] == "pending" and again["adjustments"]
    assert world.mapping()["contract_service_id"] == world.psa.lines[0].id


def test_a_call_that_dies_untyped_is_tried_again_when_its_lease_ends(world: World) -> None:
    world.psa.failures.append((RuntimeError("connection dropped mid-read"), True))  # created, answer lost
    record = world.map_s1()
    assert record["status"] == "pending" and world.mapping() is None
    [creation] = world.creations()
    assert creation.status == "sending"  # claimed: nobody calls for it until the lease ends

    world.clock.advance(60)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1 and world.mapping() is None

    world.clock.advance(5 * 60)
    world.service.run_deliveries(ADMIN)
    assert world.psa.creates == 1 and len(world.psa.lines) == 1  # looked up and adopted
    assert world.mapping()["contract_service_id"] == world.psa.lines[0].id
