"""Autotask calls per delivered adjustment when changes are back-dated into posted periods.

    .venv/bin/python benchmarks/bench_posted_periods.py [--contracts 10] [--services 5]

The real service, connector and worker against the Autotask sandbox over HTTP (SQLite).
September and October are approved and posted in Autotask; on 10 November every subscription
gets a change back-dated to 15 October and a change for today. Run twice in the same run:
"refusal only" (the worker learns posted periods from Autotask's refusal, one refused call per
contract service: the behaviour before posted periods were read) and "read before sending" (one
ContractServiceUnits query per contract). Also prints the same figures for changes in the current
period only, where nothing is read, and the request budget the database counted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from cryptography.fernet import Fernet
from tests.integration.delivery.sandbox_connection import connect_to_sandbox

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.logging import configure_logging
from contractsync.bootstrap import build_app_service, build_worker
from contractsync.delivery.config import WorkerConfig
from contractsync.sandbox.server import SandboxServer
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings


@dataclass
class Result:
    label: str
    adjustments: int
    calls: dict[str, int]
    refused: int

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def seed(sandbox: SandboxServer, contracts: int, services: int) -> None:
    body: dict[str, Any] = {
        "companies": [{"id": 1, "companyName": "Contoso Ltd", "companyType": 1, "ownerResourceID": 1}],
        "services": [
            {"id": 600 + n, "name": f"Service {n}", "unitPrice": 12, "unitCost": 10} for n in range(services)
        ],
        "contracts": [
            {"id": 700 + c, "companyID": 1, "contractName": f"CSP {c}", "contractType": 7,
             "contractPeriodType": 1, "status": 1, "startDate": "2026-01-01T00:00:00",
             "endDate": "2027-12-31T00:00:00"}
            for c in range(contracts)
        ],
    }  # fmt: skip
    httpx.post(f"{sandbox.base_url}/sandbox/seed", json=body, timeout=30).raise_for_status()


def setup(service: ContractSync, sandbox: SandboxServer, contracts: int, services: int) -> list[str]:
    connect_to_sandbox(service, sandbox)
    service.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Contoso",
                                    "provider_margins": {"microsoft": "20"}})  # fmt: skip
    service.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "at1", "company_id": 1})
    ids = []
    for c in range(contracts):
        for n in range(services):
            sid = f"s{c}-{n}"
            service.create_subscription(ADMIN, {
                "id": sid, "customer_id": "c1", "offer_id": f"OFFER:{sid}", "offer_name": sid, "kind": "nce",
                "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2026-09-01",
                "end_date": "2027-08-31", "auto_renew": True, "list_price": "10.00",
            })  # fmt: skip
            service.map_subscription(ADMIN, {"subscription_id": sid, "connection_id": "at1",
                                             "contract_id": 700 + c, "service_id": 600 + n})  # fmt: skip
            ids.append(sid)
    return ids


def run(label: str, read: bool, back_dated: bool, contracts: int, services: int, workdir: Path) -> Result:
    clock = ManualClock(datetime(2026, 9, 10, 9, tzinfo=UTC))
    name = label.replace(" ", "-")
    url = f"sqlite:///{workdir / f'{name}-{back_dated}.db'}"
    with SandboxServer() as sandbox, httpx.Client(base_url=sandbox.base_url, timeout=30) as admin:
        settings = Settings(
            database_url=url,
            secret_key=Fernet.generate_key().decode(),
            data_dir=workdir,
            psa_allowed_hosts=sandbox.allowed_host,
        )
        service = build_app_service(settings, clock=clock)
        seed(sandbox, contracts, services)
        ids = setup(service, sandbox, contracts, services)
        config = WorkerConfig(read_posted_periods=read)
        worker = build_worker(service.context.sessions, service.context.connector_for, clock, config)
        worker.run_once()
        clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
        admin.post("/sandbox/post-periods", json={"through": "2026-10-31"}).raise_for_status()
        before = admin.get("/sandbox/stats").json()
        for sid in ids:
            if back_dated:
                body = {"type": "update_quantity", "quantity": 12, "effective_date": "2026-10-15"}
                service.apply_operation(ADMIN, sid, body)
            service.apply_operation(ADMIN, sid, {"type": "update_quantity", "quantity": 13})
        for _ in range(5):  # a refused row is moved and sent in the same run; a few runs for safety
            worker.run_once()
        after = admin.get("/sandbox/stats").json()
    service.context.sessions.kw["bind"].dispose()
    calls = {
        endpoint: after["requests"].get(endpoint, 0) - before["requests"].get(endpoint, 0)
        for endpoint in set(after["requests"]) | set(before["requests"])
    }
    refused = sum(after["rejections"].values()) - sum(before["rejections"].values())
    created = after["adjustments_created"] - before["adjustments_created"]
    return Result(label, created, {k: v for k, v in calls.items() if v}, refused)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=10)
    parser.add_argument("--services", type=int, default=5, help="contract services per contract")
    args = parser.parse_args()
    configure_logging(json=True, level="WARNING")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for back_dated in (True, False):
            for label, read in (("refusal only", False), ("read before sending", True)):
                scenario = "back-dated + today" if back_dated else "today only"
                results.append(
                    (scenario, run(label, read, back_dated, args.contracts, args.services, Path(tmp)))
                )
    header = (
        f"{'changes':20} {'worker':22} {'adj':>5} {'calls':>6} {'refused':>8} {'calls/adj':>10}  by endpoint"
    )
    print(header)
    print("-" * len(header))
    for scenario, r in results:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(r.calls.items()))
        print(
            f"{scenario:20} {r.label:22} {r.adjustments:5d} {r.total:6d} {r.refused:8d}"
            f" {r.total / max(r.adjustments, 1):10.2f}  {detail}"
        )


if __name__ == "__main__":
    main()
