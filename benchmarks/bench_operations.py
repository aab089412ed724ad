"""Benchmark: operations applied per second, and latency from an accepted operation to its
adjustment being sent (settle 0), on SQLite (the worker wakes on `PRAGMA data_version`) and,
with CONTRACTSYNC_BENCH_POSTGRES_URL set, on PostgreSQL (the worker wakes on LISTEN/NOTIFY).
Operations are applied one at a time (`POST /v1/subscriptions/{id}/operations`), in batches
(`POST /v1/operations/batch`), and one each from many concurrent clients (group commit).

Prints its figures. Baseline in the same run: the same number of single-row INSERTs, one per
transaction — the floor any durable "accept an operation" costs on this machine.

    .venv/bin/python benchmarks/bench_operations.py [--operations 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import psycopg  # noqa: E402
from bench_sweep import populate  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from tests.fakes.fake_autotask import FakeAutotask  # noqa: E402

from contractsync.adapters.clock import SystemClock  # noqa: E402
from contractsync.adapters.db.tables import adjustments  # noqa: E402
from contractsync.adapters.db.wakeup import waker_for  # noqa: E402
from contractsync.adapters.logging import configure_logging  # noqa: E402
from contractsync.bootstrap import build_app_service, build_worker  # noqa: E402
from contractsync.service.actor import ADMIN  # noqa: E402
from contractsync.settings import Settings  # noqa: E402

BATCH = 100
CLIENTS = 32


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operations", type=int, default=2000)
    count = parser.parse_args().operations
    configure_logging(json=True, level="WARNING")  # the figures, not a line per delivery
    work = Path(tempfile.mkdtemp())
    measure("SQLite", f"sqlite:///{work}/bench.db", count, work)
    postgres = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
    if postgres:
        url = create_database(postgres)
        try:
            measure("PostgreSQL", url, count, work)
        finally:
            drop_database(postgres, url)


def create_database(base: str) -> str:
    name = f"cs_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin(base), autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_database(base: str, url: str) -> None:
    with psycopg.connect(_admin(base), autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")


def _admin(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def measure(label: str, url: str, count: int, work: Path) -> None:
    populate(url, count * 10)  # one in ten subscriptions is mapped: those are the ones we change
    autotask = FakeAutotask(work / f"autotask-{label}.db")
    service = build_app_service(Settings(database_url=url, data_dir=work), clock=SystemClock(),
                                connector_factory=lambda row: autotask, upgrade=False)  # fmt: skip
    mapped = [f"s{i}" for i in range(0, count * 10, 10)]

    # Baseline: one durable single-row insert per transaction.
    engine = service.context.sessions.kw["bind"]
    with engine.begin() as db:
        db.execute(
            text(
                "CREATE TABLE baseline (id SERIAL PRIMARY KEY, body TEXT)"
                if label == "PostgreSQL"
                else "CREATE TABLE baseline (id INTEGER PRIMARY KEY, body TEXT)"
            )
        )
    started = time.perf_counter()
    for i in range(count):
        with engine.begin() as db:
            db.execute(text("INSERT INTO baseline (body) VALUES (:b)"), {"b": f"op {i}"})
    baseline_rate = count / (time.perf_counter() - started)

    # Throughput: accepted operations (one transaction each: state, audit record, outbox row).
    latencies: list[float] = []
    started = time.perf_counter()
    for n, subscription_id in enumerate(mapped):
        t0 = time.perf_counter()
        service.apply_operation(ADMIN, subscription_id, {"type": "update_quantity", "quantity": 60 + n % 7})
        latencies.append(time.perf_counter() - t0)
    apply_rate = count / (time.perf_counter() - started)

    # Throughput in batches (`POST /v1/operations/batch`: imports, bursts): one transaction each.
    batch_latencies: list[float] = []
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        t0 = time.perf_counter()
        answer = service.apply_operations(ADMIN, {"operations": [
            {"subscription_id": s, "type": "update_quantity", "quantity": 70 + (start + n) % 7}
            for n, s in enumerate(mapped[start : start + BATCH])
        ]})  # fmt: skip
        assert answer["refused"] == 0, answer["results"][0]
        batch_latencies.append(time.perf_counter() - t0)
    batch_rate = count / (time.perf_counter() - started)

    # Single operations from concurrent clients (API request threads): group commit shares
    # one transaction among the operations that arrive together.
    group_commit = service._operations
    groups_before = group_commit.groups
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda n: service.apply_operation(ADMIN, mapped[n], {"type": "update_quantity", "quantity": 50 + n % 7}),
                      range(count)))  # fmt: skip
    concurrent_rate = count / (time.perf_counter() - started)
    mean_group = count / max(group_commit.groups - groups_before, 1)

    # End-to-end: a worker polls while operations arrive at a steady 20 per second.
    worker = build_worker(service.context.sessions, lambda row: autotask, SystemClock())
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, waker_for(url)), daemon=True)
    worker.run_once()  # drain the throughput phase first
    thread.start()
    since = datetime.now(UTC)
    for n, subscription_id in enumerate(mapped[:200]):
        service.apply_operation(ADMIN, subscription_id, {"type": "update_quantity", "quantity": 80 + n % 5})
        time.sleep(0.05)
    deadline = time.time() + 60
    with service.context.sessions() as session:
        while time.time() < deadline:
            rows = session.execute(
                select(adjustments.c.created_at, adjustments.c.sent_at, adjustments.c.status).where(
                    adjustments.c.created_at >= since
                )
            ).all()
            if rows and all(r.status in ("sent", "failed", "superseded") for r in rows):
                break
            session.rollback()
            time.sleep(0.2)
    stop.set()
    thread.join(10)
    e2e = [(r.sent_at - r.created_at).total_seconds() for r in rows if r.sent_at]
    calls = autotask.calls()
    sent_total = len(autotask.adjustments())

    wake = "LISTEN/NOTIFY" if label == "PostgreSQL" else "PRAGMA data_version, looked at every 5 ms"
    print(f"\n{label}: {count} operations; the worker wakes by {wake}")
    print(f"{'measure':44} {'value':>12}")
    print(f"{'baseline: 1-row insert per transaction /s':44} {baseline_rate:>12.0f}")
    print(
        f"{'operations applied /s, one per transaction':44} {apply_rate:>12.0f}   (ratio to baseline {apply_rate / baseline_rate:.2f})"
    )
    print(f"{f'operations applied /s, batches of {BATCH}':44} {batch_rate:>12.0f}   target >= 1000")
    print(
        f"{f'operations applied /s, {CLIENTS} concurrent clients':44} {concurrent_rate:>12.0f}   target >= 1000 (mean group {mean_group:.1f} operations)"
    )
    print(
        f"{'apply latency p50 / p99 ms, one operation':44} {1000 * statistics.median(latencies):>6.1f} / {1000 * percentile(latencies, 0.99):.1f}"
    )
    print(
        f"{f'apply latency p50 / p99 ms, batch of {BATCH}':44} {1000 * statistics.median(batch_latencies):>6.1f} / {1000 * percentile(batch_latencies, 0.99):.1f}"
    )
    print(
        f"{'accepted -> sent p50 / p99 ms (20 ops/s)':44} {1000 * statistics.median(e2e):>6.0f} / {1000 * percentile(e2e, 0.99):.0f}   target p99 < 200"
    )
    print(
        f"{'Autotask calls per delivered adjustment':44} {sum(calls.values()) / max(sent_total, 1):>12.2f}   target 1.00"
    )


if __name__ == "__main__":
    main()
