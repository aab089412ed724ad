"""Different contract services go in parallel (up to `concurrency`); one service never does."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.session import transaction
from contractsync.bootstrap import delivery_store
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from contractsync.ports.psa import ServiceTarget, ServiceUnitsPeriod, TargetApplied
from tests.fakes.outbox_data import Row, enqueue_operation


class BarrierConnector:
    """The first `parties` calls wait for each other: a serial worker would break the barrier."""

    def __init__(self, parties: int) -> None:
        self._barrier = threading.Barrier(parties, timeout=20)
        self._lock = threading.Lock()
        self._calls = 0
        self._in_flight: Counter[int] = Counter()
        self.max_in_flight = 0
        self.same_service_overlap = False
        self.sent: list[ServiceTarget] = []

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        return {}

    def apply_target(self, request: ServiceTarget) -> TargetApplied:
        with self._lock:
            self._calls += 1
            first_wave = self._calls <= self._barrier.parties
            self._in_flight[request.contract_service_id] += 1
            self.same_service_overlap |= self._in_flight[request.contract_service_id] > 1
            self.max_in_flight = max(self.max_in_flight, sum(self._in_flight.values()))
        if first_wave:
            self._barrier.wait()
        with self._lock:
            self._in_flight[request.contract_service_id] -= 1
            self.sent.append(request)
            return TargetApplied(len(self.sent), request.units - request.held_units)

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        raise AssertionError("no reads in the normal path")


def test_services_are_delivered_in_parallel_and_each_in_order(
    factory: sessionmaker[Session], clock: ManualClock
) -> None:
    day = date(2025, 3, 3)
    with transaction(factory) as session:
        enqueue_operation(
            session,
            [Row(s, day + timedelta(days=i), 10 * s + i) for s in range(1, 7) for i in range(5)],
            clock.now(),
        )
    connector = BarrierConnector(parties=3)
    worker = Worker(
        delivery_store(factory),
        lambda _c: connector,
        clock,
        WorkerConfig(concurrency=3),
        rng=random.Random(1),
    )
    worker.run_once()
    assert connector.max_in_flight == 3
    assert not connector.same_service_overlap
    assert len(connector.sent) == 30
    for service in range(1, 7):
        dates = [r.effective_date for r in connector.sent if r.contract_service_id == service]
        assert dates == sorted(dates)
