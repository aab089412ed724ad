"""Leases with a heartbeat, takeover after SIGKILL, and a graceful SIGTERM (issue 15, item 2).

Real processes: the sandbox, `contractsync serve` and `contractsync worker`, with a short lease.
The sandbox's `timeout` fault holds an adjustment request for two minutes — an Autotask that does
not answer — so the worker is inside its call when it is killed or asked to stop.
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.tables import adjustments, contract_service_state
from tests.integration.delivery.chaos_stack import ADJUSTMENTS, Stack, setup, stack, wait_until_delivered

LEASE, HEARTBEAT = 3.0, 0.5


def _hang_next_adjustment(running: Stack) -> None:
    body = {"endpoint": ADJUSTMENTS, "kind": "timeout", "delay_seconds": 120, "count": 1}
    running.sandbox().post("/sandbox/faults", json=body).raise_for_status()


def _sending(factory: sessionmaker[Session]) -> Any:
    with factory() as session:
        return session.execute(select(adjustments).where(adjustments.c.status == "sending")).first()


def _wait_for_sending(factory: sessionmaker[Session], proc: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the worker exited"
        row = _sending(factory)
        if row is not None:
            return row
        time.sleep(0.05)
    raise AssertionError("the worker never started sending")


def _service_state(factory: sessionmaker[Session]) -> Any:
    with factory() as session:
        return session.execute(select(contract_service_state)).one()


def _units_in_autotask(running: Stack, contract_service_id: int) -> list[tuple[str, int]]:
    timeline = running.sandbox().get(f"/sandbox/contract-services/{contract_service_id}/timeline").json()
    return [(p["date"][:10], p["units"]) for p in timeline["changes"] if p["units"]]


def _reads(running: Stack) -> int:
    return int(running.sandbox().get("/sandbox/stats").json()["requests"].get("ContractServiceUnits", 0))


def test_a_live_worker_keeps_its_lease_and_a_killed_ones_service_is_taken_over(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with stack(database_url, tmp_path / "stack") as running:
        (sub,) = setup(running, 1, datetime.now(UTC).date())
        _hang_next_adjustment(running)
        first = running.worker(LEASE, HEARTBEAT)
        row = _wait_for_sending(session_factory, first)
        # Several lease lengths later the call still hangs, and the heartbeat kept the lease.
        time.sleep(3 * LEASE)
        still = _sending(session_factory)
        assert still is not None and still.id == row.id and still.lease_owner == row.lease_owner
        assert still.lease_expires_at > row.lease_expires_at
        assert _service_state(session_factory).lease_owner == row.lease_owner
        reads_before = _reads(running)

        first.send_signal(signal.SIGKILL)
        first.wait()
        running.worker(LEASE, HEARTBEAT)
        # Taken over once the lease ran out (seconds, not the old 300 s), verified, then sent.
        wait_until_delivered(database_url, timeout=60)
        assert _reads(running) > reads_before  # the unknown outcome was read before sending
        assert _units_in_autotask(running, sub.contract_service_id) == [(row.effective_date.isoformat(), 10)]
        stats = running.sandbox().get("/sandbox/stats").json()
        assert stats["rejections"].get("duplicate_date", 0) == 0


def test_sigterm_abandons_a_hung_call_as_unknown_and_exits(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with stack(database_url, tmp_path / "stack") as running:
        (sub,) = setup(running, 1, datetime.now(UTC).date())
        _hang_next_adjustment(running)
        worker = running.worker(LEASE, HEARTBEAT)
        row = _wait_for_sending(session_factory, worker)

        worker.send_signal(signal.SIGTERM)
        try:
            # The client's read timeout is 30 s; the worker gives the call 5 s, then lets go.
            code = worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("the worker did not exit within 10 s of SIGTERM")
        assert code == 0
        with session_factory() as session:
            after = session.execute(select(adjustments).where(adjustments.c.id == row.id)).one()
        assert after.status == "pending" and after.lease_owner is None
        state = _service_state(session_factory)
        assert state.units_unknown and state.lease_owner is None  # verified before anything is sent

        reads_before = _reads(running)
        running.worker(LEASE, HEARTBEAT)  # at once: nothing waits for a lease to run out
        wait_until_delivered(database_url, timeout=60)
        assert _reads(running) > reads_before
        assert _units_in_autotask(running, sub.contract_service_id) == [(row.effective_date.isoformat(), 10)]
