"""A connector failure that is not a typed PSA error (a bug, credentials that cannot be sent, a
URL the allow-list refuses) fails the row with a reason instead of holding its lease silently."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.autotask.outbound import OutboundRefused
from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import adjustments, connection_operations, contract_service_state
from contractsync.bootstrap import delivery_store
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from contractsync.ports.psa import ServiceTarget, TargetApplied
from tests.fakes.outbox_data import Row, enqueue_operation
from tests.sandbox_autotask import SandboxAutotask

D = date(2025, 3, 3)
CONFIG = WorkerConfig(lease_seconds=60, backoff_base=1.0, backoff_cap=20.0, owner="test-worker")


class Broken:
    """Creates raise a stray exception; reads go to Autotask (the sandbox), or fail the same way."""

    def __init__(self, autotask: SandboxAutotask, reads_fail: bool = False) -> None:
        self.autotask, self.reads_fail = autotask, reads_fail
        self.calls = 0

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        return {}

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        self.calls += 1
        raise RuntimeError("boom with a secret-looking text s3cret")

    def service_units(self, contract_service_id: int, start: date, end: date) -> Any:
        self.calls += 1
        if self.reads_fail:
            raise UnicodeEncodeError("ascii", "ä", 0, 1, "ordinal not in range(128)")
        return self.autotask.connector.service_units(contract_service_id, start, end)


def _rows(factory: sessionmaker[Session]) -> list[Any]:
    with transaction(factory) as session:
        return list(session.execute(select(adjustments).order_by(adjustments.c.id)))


def _operation(factory: sessionmaker[Session], operation_id: int) -> Any:
    with transaction(factory) as session:
        return session.execute(
            select(connection_operations).where(connection_operations.c.id == operation_id)
        ).one()


def test_a_stray_exception_fails_the_row_with_a_reason_and_the_next_send_verifies_first(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock
) -> None:
    with transaction(factory) as session:
        operation_id, _ = enqueue_operation(session, [Row(1, D, 11)], clock.now())
    broken = Broken(autotask)
    Worker(delivery_store(factory), lambda _c: broken, clock, CONFIG, rng=random.Random(1)).run_once()
    (row,) = _rows(factory)
    assert (row.status, row.error_kind) == ("failed", "connector_error")
    assert (
        row.error
        == "connector failure, not an answer from Autotask: RuntimeError (details in the worker log)"
    )
    assert "s3cret" not in row.error
    assert _operation(factory, operation_id).status == "failed"
    # It may have gone out: the service's units are unknown until read back.
    with transaction(factory) as session:
        assert session.execute(select(contract_service_state.c.units_unknown)).scalar_one() is True


def test_a_failing_verification_fails_each_row_instead_of_looping(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock
) -> None:
    with transaction(factory) as session:
        enqueue_operation(session, [Row(1, D, 11)], clock.now())
    broken = Broken(autotask, reads_fail=True)
    worker = Worker(delivery_store(factory), lambda _c: broken, clock, CONFIG, rng=random.Random(1))
    worker.run_once()  # the create fails: units unknown
    with transaction(factory) as session:
        enqueue_operation(session, [Row(1, date(2025, 3, 4), 12)], clock.now())
    worker.run_once()  # the next row must verify first, and the read fails too
    first, second = _rows(factory)
    assert (first.status, second.status) == ("failed", "failed")
    assert second.error_kind == "connector_error" and "UnicodeEncodeError" in second.error
    calls = broken.calls
    clock.advance(3600)
    worker.run_once()
    assert broken.calls == calls  # nothing left to try: no silent loop


def test_a_connector_that_cannot_be_built_fails_the_row_with_why(
    factory: sessionmaker[Session], clock: ManualClock
) -> None:
    with transaction(factory) as session:
        operation_id, _ = enqueue_operation(session, [Row(1, D, 11)], clock.now())

    def refuse(_connection_id: str) -> Any:
        raise OutboundRefused("base_url host 127.0.0.1 is not under autotask.net")

    Worker(delivery_store(factory), refuse, clock, CONFIG, rng=random.Random(1)).run_once()
    (row,) = _rows(factory)
    assert row.status == "failed"
    assert row.error == (
        "connector failure, not an answer from Autotask: base_url host 127.0.0.1 is not under autotask.net"
    )
    assert _operation(factory, operation_id).reason == row.error
