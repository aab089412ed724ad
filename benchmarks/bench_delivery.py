"""Delivery benchmark: throughput, enqueue→sent latency and Autotask calls per adjustment.

    .venv/bin/python benchmarks/bench_delivery.py [--services 100] [--rows 10]

Runs on SQLite always and on PostgreSQL when CONTRACTSYNC_TEST_POSTGRES_URL (or
CONTRACTSYNC_BENCH_POSTGRES_URL) is set, with an in-memory connector of zero latency and
settle 0. The naive baseline, in the same run, reads the service's units and then posts a delta
for every row (what a worker without a local ledger must do): two calls per adjustment.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from temp_database import temporary_postgres

from contractsync.adapters.autotask.adjustments import AdjustmentRequest, adjustment_for, adjustment_record
from contractsync.adapters.clock import SystemClock
from contractsync.adapters.db import migrate, operations, outbox
from contractsync.adapters.db.outbox_rows import NewAdjustment
from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.adapters.db.tables import adjustments, connections, resellers
from contractsync.adapters.logging import configure_logging
from contractsync.bootstrap import delivery_store
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from contractsync.ports.psa import ServiceTarget, ServiceUnitsPeriod, TargetApplied


class MemoryAutotask:
    """Zero-latency connector: units per date are the sum of deltas, one adjustment per date."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.adjustments: dict[int, dict[date, tuple[int, Decimal, Decimal]]] = {}
        self.calls = 0

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        return adjustment_record(adjustment_for(target))

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        request = adjustment_for(target)
        return TargetApplied(self.create_adjustment(request), request.unit_change)

    def create_adjustment(self, request: AdjustmentRequest) -> int:
        with self._lock:
            self.calls += 1
            service = self.adjustments.setdefault(request.contract_service_id, {})
            assert request.effective_date not in service, "sent twice"
            service[request.effective_date] = (
                request.unit_change,
                request.adjusted_unit_price,
                request.adjusted_unit_cost,
            )
            return self.calls

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        with self._lock:
            self.calls += 1
            items = sorted(self.adjustments.get(contract_service_id, {}).items())
        periods, units = [], 0
        for i, (day, (change, price, cost)) in enumerate(items):
            units += change
            finish = items[i + 1][0] - timedelta(days=1) if i + 1 < len(items) else date(2099, 12, 31)
            if finish >= start and day <= end:
                periods.append(
                    ServiceUnitsPeriod(contract_service_id, day, finish, units, price, cost, False)
                )
        return periods


@dataclass
class Result:
    backend: str
    method: str
    rows: int
    seconds: float
    calls: int
    p50_ms: float
    p99_ms: float


def available_backends() -> list[str]:
    """SQLite always; PostgreSQL when a server URL is given."""
    if os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL") or os.environ.get("CONTRACTSYNC_TEST_POSTGRES_URL"):
        return ["sqlite", "postgres"]
    return ["sqlite"]


@contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        return
    base = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL") or os.environ["CONTRACTSYNC_TEST_POSTGRES_URL"]
    with temporary_postgres(base) as url:
        yield url


def enqueue(factory: sessionmaker[Session], services: int, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with transaction(factory) as session:
        session.execute(insert(resellers).values(id="r1", name="R", promotion_setting="pass_through"))
        session.execute(
            insert(connections).values(
                id="at1", reseller_id="r1", kind="autotask", username="u", secret_encrypted="x",
                integration_code="c", timezone="UTC", settle_seconds=0, policies={}, created_at=now,
            )
        )  # fmt: skip
    for step in range(rows):
        with transaction(factory) as session:
            now = datetime.now(UTC)
            op = operations.create_operation(
                session, connection_id="at1", operation_key=f"k{step}", type="T", status="pending", now=now
            )
            outbox.enqueue(
                session,
                [
                    NewAdjustment(
                        operation_id=op, connection_id="at1", subscription_id=f"s{s}", contract_id=1,
                        contract_service_id=s, effective_date=date(2025, 1, 1) + timedelta(days=step),
                        target_units=rng.randint(1, 50), unit_price=Decimal("12.0000"),
                        unit_cost=Decimal("10.0000"), due_at=now,
                    )
                    for s in range(1, services + 1)
                ],
                now,
            )  # fmt: skip


def latencies(factory: sessionmaker[Session]) -> tuple[float, float]:
    with transaction(factory) as session:
        rows = session.execute(select(adjustments.c.created_at, adjustments.c.sent_at)).all()
    values = sorted((sent - created).total_seconds() * 1000 for created, sent in rows if sent is not None)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.99))]


def run_worker(backend: str, url: str, services: int, rows: int) -> Result:
    factory = session_factory(make_engine(url))
    enqueue(factory, services, rows, seed=1)
    fake = MemoryAutotask()
    worker = Worker(delivery_store(factory), lambda _c: fake, SystemClock(), WorkerConfig(concurrency=3))
    started = time.perf_counter()
    worker.run_once()
    seconds = time.perf_counter() - started
    p50, p99 = latencies(factory)
    return Result(backend, "contractsync worker", services * rows, seconds, fake.calls, p50, p99)


def run_naive(backend: str, url: str, services: int, rows: int) -> Result:
    """Read units, then post a delta, for every row in order; one thread."""
    factory = session_factory(make_engine(url))
    enqueue(factory, services, rows, seed=1)
    fake = MemoryAutotask()
    started = time.perf_counter()
    with transaction(factory) as session:
        pending = session.execute(select(adjustments).order_by(adjustments.c.id)).all()
    for row in pending:
        periods = fake.service_units(row.contract_service_id, row.effective_date, row.effective_date)
        held = periods[-1].units if periods else 0
        fake.create_adjustment(
            AdjustmentRequest(
                row.contract_id, row.contract_service_id, row.effective_date,
                row.target_units - held, row.unit_price, row.unit_cost,
            )
        )  # fmt: skip
        with transaction(factory) as session:
            session.execute(
                update(adjustments)
                .where(adjustments.c.id == row.id)
                .values(status="sent", sent_at=datetime.now(UTC))
            )
    seconds = time.perf_counter() - started
    p50, p99 = latencies(factory)
    return Result(backend, "naive (read + post)", services * rows, seconds, fake.calls, p50, p99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10, help="adjustments per service")
    args = parser.parse_args()
    configure_logging(json=True, level="WARNING")  # the figures, not a line per delivery
    backends = available_backends()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            for method in (run_worker, run_naive):
                with fresh_database(backend, Path(tmp)) as url:
                    migrate.upgrade(url)
                    results.append(method(backend, url, args.services, args.rows))
    header = (
        f"{'backend':9} {'method':22} {'rows':>6} {'rows/s':>8} {'p50 ms':>9} {'p99 ms':>9} {'calls/adj':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:9} {r.method:22} {r.rows:6d} {r.rows / r.seconds:8.1f} {r.p50_ms:9.1f} {r.p99_ms:9.1f}"
            f" {r.calls / r.rows:10.2f}"
        )
    for backend in backends:
        ours, naive = (r for r in results if r.backend == backend)
        print(f"{backend}: naive makes {naive.calls / ours.calls:.2f}x the Autotask calls of the worker")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
