"""Chaos harness: a workload, worker processes killed with SIGKILL, and the invariants after."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import adjustments
from tests.fakes.fake_autotask import FakeAutotask, Faults
from tests.fakes.outbox_data import Row, enqueue_operation, seed_connection

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


def spawn(url: str, fake: Path, seed: int, faults: Faults, lease: float) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tests.fakes.run_worker",
        "--db",
        url,
        "--fake",
        str(fake),
        "--seed",
        str(seed),
        "--faults",
        json.dumps(asdict(faults)),
        "--lease",
        str(lease),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)


def run_with_kills(
    url: str, fake: Path, *, kills: int, workers: int, faults: Faults, seed: int, lease: float = 1.0
) -> None:
    """Start `workers` processes; SIGKILL one at a random moment `kills` times (restarting it);
    then let them all run to completion."""
    rng = random.Random(seed)
    autotask = FakeAutotask(fake)
    procs = [spawn(url, fake, seed * 100 + i, faults, lease) for i in range(workers)]
    for k in range(kills):
        before = sum(autotask.calls().values())
        time.sleep(rng.uniform(0.6, 1.6))  # the harness waits in real time; the workers don't
        # A worker still starting up (a loaded machine) has sent nothing: kill it only once
        # Autotask has seen calls since the last kill, so every run meets faults and kills.
        started = time.monotonic()
        while sum(autotask.calls().values()) == before and time.monotonic() - started < 30:
            time.sleep(0.05)
        victim = rng.randrange(workers)
        procs[victim].kill()
        procs[victim].wait()
        procs[victim] = spawn(url, fake, seed * 100 + workers + k, faults, lease)
    for proc in procs:
        _, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stderr.decode()[-3000:]


def check_invariants(
    factory: sessionmaker[Session], fake: FakeAutotask, rounds: list[list[Row]]
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
    calls = fake.calls()
    assert calls.get("rejected_duplicate", 0) == 0, "an adjustment was sent twice for one date"
    held = fake.adjustments()
    assert len({(a[0], a[1]) for a in held}) == len(held)
    by_service: dict[int, list[tuple[date, int]]] = {}
    for service, day, change, _, _ in held:
        by_service.setdefault(service, []).append((day, change))

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
