"""Autotask's request budget is the tenant's (SPEC §3): two real `contractsync worker` processes
of one connection spend one budget, kept in the database and corrected from the sandbox's
ThresholdInformation, and together stay under the sandbox's cap; the 80 % alert and the gauge
see both processes' calls."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from contractsync.adapters.clock import SystemClock
from contractsync.adapters.db import operations, outbox
from contractsync.adapters.db.outbox_rows import NewAdjustment
from contractsync.bootstrap import build_app_service, build_web_app, shared_budgets
from contractsync.sandbox.server import SandboxServer
from contractsync.service.actor import ADMIN
from contractsync.settings import Settings
from tests.integration.delivery.sandbox_connection import connect_to_sandbox

SERVICES = 40
SANDBOX_BUDGET = 30
CONTRACT_ID, FIRST_SERVICE = 900, 9000
TODAY = datetime.now(UTC).date()


def _seed(sandbox: SandboxServer) -> None:
    start, end = TODAY.replace(day=1) - timedelta(days=365), TODAY + timedelta(days=365)
    body = {
        "companies": [{"id": 1, "companyName": "Contoso Ltd", "companyType": 1, "ownerResourceID": 1}],
        "services": [{"id": 3, "name": "Microsoft 365 E3", "unitPrice": 30, "unitCost": 25}],
        "contracts": [
            {
                "id": CONTRACT_ID, "companyID": 1, "contractName": "Contoso CSP", "contractType": 7,
                "contractPeriodType": 1, "status": 1,
                "startDate": f"{start.isoformat()}T00:00:00", "endDate": f"{end.isoformat()}T00:00:00",
            }
        ],
        "contractServices": [
            {"id": FIRST_SERVICE + n, "contractID": CONTRACT_ID, "serviceID": 3, "unitPrice": 30, "unitCost": 25}
            for n in range(SERVICES)
        ],
    }  # fmt: skip
    httpx.post(f"{sandbox.base_url}/sandbox/seed", json=body, timeout=10).raise_for_status()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        _seed(server)
        yield server


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        # One thread each: two processes of one integration share Autotask's 3-thread limit.
        [sys.executable, "-m", "contractsync", "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def _sent(log: Path) -> int:
    return log.read_text().count('"event": "adjustment sent"')


def _stats(sandbox: SandboxServer) -> dict[str, Any]:
    payload: dict[str, Any] = httpx.get(f"{sandbox.base_url}/sandbox/stats", timeout=10).json()
    return payload


def test_two_worker_processes_share_one_budget_and_stay_under_the_cap(
    database_url: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    settings = Settings(
        database_url=database_url, secret_key=key, data_dir=tmp_path, psa_allowed_hosts=sandbox.allowed_host
    )
    service = build_app_service(settings, upgrade=False)
    # The tenant's threshold is set first: saving the connection checks its credentials with a
    # ThresholdInformation read, which is also the budget's first correction.
    admin = httpx.Client(base_url=sandbox.base_url, timeout=10)
    admin.post("/sandbox/limits", json={"budget": SANDBOX_BUDGET, "reset_window": True}).raise_for_status()
    connect_to_sandbox(service, sandbox)
    # Due a little later, so that both processes are polling when the work appears.
    due = datetime.now(UTC) + timedelta(seconds=8)
    with service.context.sessions.begin() as session:
        operation = operations.create_operation(
            session, connection_id="at1", operation_key="budget", type="T", status="pending", now=due
        )
        rows = [
            NewAdjustment(
                operation_id=operation, connection_id="at1", subscription_id=None, contract_id=CONTRACT_ID,
                contract_service_id=FIRST_SERVICE + n, effective_date=TODAY, target_units=5,
                unit_price=Decimal("30.0000"), unit_cost=Decimal("25.0000"), due_at=due,
            )
            for n in range(SERVICES)
        ]  # fmt: skip
        outbox.enqueue(session, rows, due)
    # Each adjustment takes 0.2 s in Autotask, so neither process can take all the work alone.
    admin.post(
        "/sandbox/faults",
        json={"endpoint": "ContractServiceAdjustments", "kind": "timeout_after_apply", "delay_seconds": 0.2},
    ).raise_for_status()

    env = os.environ | {
        "CONTRACTSYNC_DATABASE_URL": database_url,
        "CONTRACTSYNC_SECRET_KEY": key,
        "CONTRACTSYNC_DATA_DIR": str(tmp_path),
        "CONTRACTSYNC_PSA_ALLOWED_HOSTS": sandbox.allowed_host,
    }
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    budget = shared_budgets(service.context.sessions, settings, SystemClock()).for_connection("at1")
    workers = [_worker(env, log) for log in logs]
    try:
        # 80 % of 30 go at once; past that the rest are spread over the hour (one every ~10 min).
        deadline = time.monotonic() + 90
        while budget.usage().used < SANDBOX_BUDGET * 0.8 and time.monotonic() < deadline:
            assert all(w.poll() is None for w in workers), "a worker exited"
            time.sleep(0.2)
        time.sleep(2)  # let any request beyond the pacing show itself
        stats = _stats(sandbox)
        sent = [_sent(log) for log in logs]
        counted = budget.usage()
        fractions = service.context.connector_for.budget_used()  # type: ignore[attr-defined]
        alerts = [a for a in service.list_alerts(ADMIN) if a["kind"] == "api_budget"]
        with TestClient(build_web_app(service, settings)) as client:
            scraper = service.create_token(None)
            metrics = client.get("/metrics", headers={"Authorization": f"Bearer {scraper}"}).text
    finally:
        for worker in workers:
            worker.kill()  # a worker pacing its requests sleeps; nothing here needs a clean stop
            worker.wait(timeout=30)
        admin.close()

    assert all(count > 0 for count in sent), f"each process delivered some: {sent}"
    assert "budget" not in stats["rejections"], "Autotask's cap was never reached"
    used = stats["budget"]["used"]
    assert stats["requests"]["ThresholdInformation"] >= 1
    assert used == sum(sent) + stats["requests"]["ThresholdInformation"] <= SANDBOX_BUDGET
    # Every request either process sent is in the one budget the database keeps.
    assert counted.used == used
    assert counted.limit == SANDBOX_BUDGET  # learned from ThresholdInformation, not configured
    assert fractions["at1"] == counted.used / SANDBOX_BUDGET >= 0.8
    assert [a["connection_id"] for a in alerts] == ["at1"]
    assert 'contractsync_autotask_budget_used{connection="at1"}' in metrics
    assert date.today() >= TODAY  # the test did not cross midnight into another period
