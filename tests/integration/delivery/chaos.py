"""Chaos harness: a workload, worker processes killed with SIGKILL, and the invariants after."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import adjustments
from tests.fakes.outbox_data import Row, contract_of, enqueue_operation, seed_connection
from tests.sandbox_autotask import SandboxAutotask

ROOT = Path(__file__).resolve().parents[3]


def workload(services: int, rows_per_service: int, seed: int) -> list[list[Row]]:
    """Rounds of rows (one operation per round); per service, dates and ids both increase."""
    rng = random.Random(seed)
    days = {s: date(2025, 1, 1) + timedelta(days=rng.randrange(30)) for s in range(1, services + 1)}
    targets = dict.fromkeys(days, 0)
    rounds: list[list[Row]] = []
    for _ in range(rows_per_service):
        batch = []
        for s in days:
            days[s] += timedelta(days=rng.randint(1, 4))
            targets[s] = rng.choice([t for t in range(1, 60) if t != targets[s]])
            price = Decimal(rng.choice(["12.0000", "12.5000", "13.1250"]))
            batch.append(Row(s, days[s], targets[s], price=price, cost=Decimal("10.0000")))
        rounds.append(batch)
    return rounds


def enqueue_workload(factory: sessionmaker[Session], rounds: list[list[Row]]) -> None:
    now = datetime.now(UTC)
    with transaction(factory) as session:
        seed_connection(session, now)
    for batch in rounds:
        with transaction(factory) as session:
            enqueue_operation(session, batch, now)


def set_up_autotask(autotask: SandboxAutotask, services: int, ended: int | None = None) -> None:
    """The workload's contract services in Autotask; contract `ended` (if any) ends on
    2025-02-01, so its later rows are refused for good (outside the contract)."""
    if ended is not None:
        autotask.contract(ended, date(2020, 1, 1), date(2025, 2, 1))
    autotask.contract_services({s: contract_of(s) for s in range(1, services + 1)})


def spawn(url: str, autotask: SandboxAutotask, seed: int, lease: float) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tests.fakes.run_worker",
        "--db",
        url,
        "--autotask",
        autotask.api_url,
        "--seed",
        str(seed),
        "--lease",
        str(lease),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)


def run_with_kills(
    url: str, autotask: SandboxAutotask, *, kills: int, workers: int, seed: int, lease: float = 1.0
) -> None:
    """Start `workers` processes; SIGKILL one at a random moment `kills` times (restarting it);
    then let them all run to completion."""
    rng = random.Random(seed)
    procs = [spawn(url, autotask, seed * 100 + i, lease) for i in range(workers)]
    for k in range(kills):
        before = autotask.total_requests()
        time.sleep(rng.uniform(0.6, 1.6))  # the harness waits in real time; the workers don't
        # A worker still starting up (a loaded machine) has sent nothing: kill it only once
        # Autotask has seen calls since the last kill, so every run meets faults and kills.
        started = time.monotonic()
        while autotask.total_requests() == before and time.monotonic() - started < 30:
            time.sleep(0.05)
        victim = rng.randrange(workers)
        procs[victim].kill()
        procs[victim].wait()
        procs[victim] = spawn(url, autotask, seed * 100 + workers + k, lease)
    for proc in procs:
        _, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stderr.decode()[-3000:]


def check_invariants(
    factory: sessionmaker[Session], autotask: SandboxAutotask, rounds: list[list[Row]]
) -> dict[str, int]:
    """Every row settled; Autotask holds each sent row's target on its date; nothing twice."""
    with transaction(factory) as session:
        rows = session.execute(
            select(
                adjustments.c.id,
                adjustments.c.contract_service_id,
                adjustments.c.effective_date,
                adjustments.c.target_units,
                adjustments.c.status,
                adjustments.c.error,
            ).order_by(adjustments.c.id)
        ).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    assert set(counts) <= {"sent", "failed", "superseded"}, counts
    assert autotask.rejections().get("duplicate_date", 0) == 0, "an adjustment was sent twice for one date"
    held = autotask.adjustments()
    assert len({(a.contract_service_id, a.effective_date) for a in held}) == len(held)
    by_service: dict[int, list[tuple[date, int]]] = {}
    for a in held:
        by_service.setdefault(a.contract_service_id, []).append((a.effective_date, a.unit_change))

    def units_on(service: int, day: date) -> int:
        return sum(change for d, change in by_service.get(service, []) if d <= day)

    last_sent: dict[int, int] = {}
    for row in rows:
        if row.status == "sent":
            assert units_on(row.contract_service_id, row.effective_date) == row.target_units, row
            last_sent[row.contract_service_id] = row.id
    for row in rows:
        if row.status == "failed":
            # F1: a failure stays failed only when nothing later was sent for its service.
            assert last_sent.get(row.contract_service_id, 0) < row.id, row
            assert row.error
    expected_rows = sum(len(batch) for batch in rounds)
    assert len(rows) == expected_rows
    return counts
