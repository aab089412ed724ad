"""The operation path answers the same on the in-memory unit of work as on SQLite and PostgreSQL:
the same façade calls over `SqlUnitsOfWork` and `FakeUnitsOfWork`, the same records, adjustments,
refusals and state afterwards. This keeps `MemorySubscriptionBooks` honest, so use cases can be
unit-tested without a database (`tests/unit/service/test_operations.py`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.tables import contracts, ledger, subscription_mappings
from contractsync.adapters.db.unit_of_work import SqlUnitsOfWork
from contractsync.adapters.memory.subscription_books import LedgerLine
from contractsync.adapters.memory.unit_of_work import FakeUnitsOfWork
from contractsync.adapters.secrets import SecretBox
from contractsync.domain.enums import ContractPeriodType
from contractsync.domain.model import Contract
from contractsync.domain.operations import OperationCommand
from contractsync.domain.schedule import HeldAdjustment
from contractsync.ports.directory import SubscriptionMapping
from contractsync.ports.unit_of_work import UnitOfWorkFactory
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import ServiceError
from contractsync.service.facade import ContractSync

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MAPPED_AT = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
#: what Autotask holds for each mapped service since the mapping: 10 units at 12.00, cost 10.00
HELD = HeldAdjustment(date(2026, 1, 20), 10, Decimal("12.00"), Decimal("10.00"))
KEY = SecretBox.new_key().encode()


def _subscription(sid: str, end: str = "2027-01-14") -> dict[str, Any]:
    return {
        "id": sid, "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5",
        "kind": "nce", "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2026-01-15",
        "end_date": end, "auto_renew": False, "list_price": "10.00",
    }  # fmt: skip


def _service(units: UnitOfWorkFactory) -> tuple[ContractSync, ManualClock]:
    clock = ManualClock(NOW)
    context = ServiceContext(units, clock, SecretBox(KEY), lambda row: None, OutboundPolicy())
    service = ContractSync(context)
    service.create_reseller(ADMIN, {"id": "r1", "name": "R1", "promotion_setting": "keep"})
    service.create_connection(
        ADMIN,
        {"id": "k1", "reseller_id": "r1", "kind": "autotask", "username": "u", "secret": "s",
         "integration_code": "IC", "timezone": "Europe/Amsterdam"},
    )  # fmt: skip
    service.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso"})
    for sid, end in (("s1", "2027-01-14"), ("s2", "2027-01-14"), ("s3", "2026-03-01")):
        service.create_subscription(ADMIN, _subscription(sid, end))
    return service, clock


def _map_in_sql(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.execute(
            insert(contracts),
            [{"connection_id": "k1", "contract_id": 100, "start_date": date(2026, 1, 1),
              "end_date": date(2027, 12, 31), "period_type": "monthly", "posted_through": None}],
        )  # fmt: skip
        session.execute(
            insert(subscription_mappings),
            [{"subscription_id": sid, "connection_id": "k1", "contract_id": 100, "service_id": 7,
              "contract_service_id": cs, "mapped_on": date(2026, 1, 20), "created_at": MAPPED_AT}
             for sid, cs in (("s1", 1001), ("s2", 1002))],
        )  # fmt: skip
        session.execute(
            insert(ledger),
            [{"connection_id": "k1", "contract_service_id": cs, "effective_date": HELD.effective_date,
              "unit_change": HELD.unit_change, "unit_price": HELD.unit_price, "unit_cost": HELD.unit_cost}
             for cs in (1001, 1002)],
        )  # fmt: skip


def _map_in_memory(units: FakeUnitsOfWork) -> None:
    data = units.data
    data.contracts[("k1", 100)] = Contract(
        100, date(2026, 1, 1), date(2027, 12, 31), ContractPeriodType.MONTHLY
    )
    for sid, cs in (("s1", 1001), ("s2", 1002)):
        data.subscription_mappings[sid] = SubscriptionMapping(sid, "k1", 100, cs, 7, date(2026, 1, 20))
        data.mapped_at[sid] = MAPPED_AT
        data.ledger[("k1", cs)] = [LedgerLine(None, HELD)]


def _run(service: ContractSync, clock: ManualClock) -> list[Any]:
    answers: list[Any] = []

    def call(method: Any, *args: Any) -> None:
        try:
            answers.append(method(*args))
        except ServiceError as error:
            answers.append((type(error).__name__, error.message))

    quantity = OperationCommand.build("update_quantity", quantity=12)
    call(service.apply_operation, ADMIN, "s1", quantity)
    clock.advance(60)
    # A second change on the same day re-plans: the first pending row is superseded.
    call(service.apply_operation, ADMIN, "s1", {"type": "update_quantity", "quantity": 15})
    call(service.apply_operation, ADMIN, "s1", {"type": "update_quantity", "quantity": -1})
    call(service.apply_operation, Actor("r2"), "s1", quantity)
    keyed = OperationCommand.build("update_price_margin", margin_percent="12.5", idempotency_key="k-1")
    call(service.apply_operation, ADMIN, "s2", keyed)
    call(service.apply_operation, ADMIN, "s2", keyed)  # answered from the first time
    call(service.apply_operations, ADMIN, {"operations": [
        {"subscription_id": "s1", "type": "update_friendly_name", "friendly_name": "Sales"},
        {"subscription_id": "s2", "type": "update_quantity", "quantity": 3},
        {"subscription_id": "s1", "type": "suspend"},
        {"subscription_id": "nope", "type": "cancel"},
    ]})  # fmt: skip
    call(service.set_provider_margin, ADMIN, "c1", "microsoft", {"margin_percent": "20"})
    call(service.sweep, ADMIN, {"date": "2026-03-05"})
    for sid in ("s1", "s2", "s3"):
        call(service.get_subscription, ADMIN, sid)
    call(service.list_operations, ADMIN)
    call(service.list_manual_actions, ADMIN)
    # Previews last, without their ids: PostgreSQL's sequences keep the ids a rolled-back insert took.
    preview = OperationCommand.build("update_quantity", quantity=14, preview=True)
    call(service.apply_operation, ADMIN, "s1", preview)
    call(service.sweep, ADMIN, {"date": "2027-02-01", "preview": True})
    answers[-2:] = [_without(answer, "id") for answer in answers[-2:]]
    call(service.list_operations, ADMIN)
    return answers


def _without(value: Any, field: str) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, field) for k, v in value.items() if k != field}
    if isinstance(value, list | tuple):
        return type(value)(_without(v, field) for v in value)
    return value


def _without_keys(value: Any) -> Any:
    """Operation keys are random (uuid4): everything else must agree."""
    if isinstance(value, str):
        return re.sub(r"\b[0-9a-f]{32}\b", "<key>", value)
    if isinstance(value, list | tuple):
        return type(value)(_without_keys(v) for v in value)
    if isinstance(value, dict):
        return {k: _without_keys(v) for k, v in _without(value, "operation_key").items()}
    return value


def test_the_operation_path_answers_alike(session_factory: sessionmaker[Session]) -> None:
    sql_units, memory_units = SqlUnitsOfWork(session_factory), FakeUnitsOfWork()
    sql, sql_clock = _service(sql_units)
    memory, memory_clock = _service(memory_units)
    _map_in_sql(session_factory)
    _map_in_memory(memory_units)
    sql_answers = _without_keys(_run(sql, sql_clock))
    memory_answers = _without_keys(_run(memory, memory_clock))
    for index, (expected, got) in enumerate(zip(sql_answers, memory_answers, strict=True)):
        assert got == expected, index
    assert any(r["status"] == "superseded" for r in sql_answers[-5]["items"])  # the re-plan happened
    assert sql_answers[-2]["counts"] and sql_answers[-1] == sql_answers[-5]  # previews store nothing
