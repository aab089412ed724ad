"""Benchmark: reconciling a connection with 5,000 mapped contract services (issue 10, item 4).

Plain script, prints its figures. The Autotask sandbox (over HTTP) holds 5,000 contract services
(100 contracts x 50 services, one year of monthly periods each), every one with the adjustment
contractsync sent; contractsync's database holds the matching subscriptions, mappings, intents
and ledger. 1 % of the services get an edit by hand in Autotask. Measured: one reconciliation
(reads = ContractServiceUnits requests, counted by the sandbox too), then a fix of the drift.
Baseline in the same run: one query per contract service (the old way), on a sample of 500.

    .venv/bin/python benchmarks/bench_reconcile.py [--services 5000]
    CONTRACTSYNC_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres …  (adds PostgreSQL)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temp_database import temporary_postgres  # noqa: E402

SERVICES_PER_CONTRACT = 50
START, END = date(2026, 1, 1), date(2026, 12, 31)
MAPPED_ON = date(2026, 2, 1)


def seed_sandbox(sandbox: Any, count: int) -> list[tuple[int, int, int]]:
    """(contract id, contract service id, units) per contract service."""
    contracts = -(-count // SERVICES_PER_CONTRACT)
    body: dict[str, Any] = {
        "companies": [{"id": 1, "companyName": "Contoso", "companyType": 1, "phone": "1", "ownerResourceID": 1}],
        "services": [{"id": 100 + s, "name": f"Service {s}", "unitCost": "10.0000", "unitPrice": "12.0000",
                      "periodType": 1} for s in range(SERVICES_PER_CONTRACT)],
        "contracts": [{"id": 1000 + c, "companyID": 1, "contractName": f"C{c}", "contractType": 7,
                       "contractPeriodType": 1, "status": 1, "startDate": f"{START}T00:00:00",
                       "endDate": f"{END}T00:00:00"} for c in range(contracts)],
        "contractServices": [], "adjustments": [],
    }  # fmt: skip
    services = []
    for n in range(count):
        contract, cs, units = 1000 + n // SERVICES_PER_CONTRACT, 500_000 + n, 1 + n % 40
        body["contractServices"].append({"id": cs, "contractID": contract, "serviceID": 100 + n % SERVICES_PER_CONTRACT,
                                         "unitPrice": "12.0000", "unitCost": "10.0000"})  # fmt: skip
        body["adjustments"].append({"contractID": contract, "contractServiceID": cs, "effectiveDate": f"{MAPPED_ON}",
                                    "unitChange": units, "adjustedUnitPrice": "12.0000",
                                    "adjustedUnitCost": "10.0000"})  # fmt: skip
        services.append((contract, cs, units))
    response = httpx.post(f"{sandbox.base_url}/sandbox/seed", json=body, timeout=300)
    response.raise_for_status()
    return services


def populate(service: Any, sandbox: Any, services: list[tuple[int, int, int]]) -> None:
    from sqlalchemy import insert

    from contractsync.adapters.db.books_table import service_books
    from contractsync.adapters.db.tables import contracts, ledger, subscription_mappings, subscriptions
    from contractsync.service.actor import ADMIN

    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller"})
    service.create_connection(ADMIN, {
        "id": "at1", "reseller_id": "r1", "kind": "autotask", "username": sandbox.username, "secret": sandbox.secret,
        "integration_code": sandbox.integration_code, "base_url": sandbox.base_url, "timezone": "UTC",
        "settle_seconds": 0,
    })  # fmt: skip
    service.create_customer(
        ADMIN, {"id": "c1", "reseller_id": "r1", "name": "C", "provider_margins": {"microsoft": "20"}}
    )
    now = datetime(2026, 2, 1, 9, tzinfo=UTC)
    with service.context.sessions.begin() as db:
        db.execute(insert(contracts), [
            {"connection_id": "at1", "contract_id": c, "start_date": START, "end_date": END, "period_type": "monthly"}
            for c in sorted({c for c, _, _ in services})])  # fmt: skip
        db.execute(insert(subscriptions), [
            {"id": f"s{cs}", "customer_id": "c1", "reseller_id": "r1", "offer_id": "P:S:A", "offer_name": "E3",
             "kind": "nce", "quantity": units, "status": "active", "term": "P1Y", "billing_cycle": "monthly",
             "start_date": START, "end_date": END, "auto_renew": True, "list_price": "10.00", "version": 1,
             "created_at": now, "updated_at": now} for _, cs, units in services])  # fmt: skip
        db.execute(insert(subscription_mappings), [
            {"subscription_id": f"s{cs}", "connection_id": "at1", "contract_id": c, "service_id": None,
             "contract_service_id": cs, "mapped_on": MAPPED_ON, "created_at": now} for c, cs, _ in services])  # fmt: skip
        db.execute(insert(service_books), [
            {"connection_id": "at1", "contract_service_id": cs, "contract_id": c, "service_start": MAPPED_ON,
             "intents": [{"date": f"{MAPPED_ON}", "units": u, "unit_price": "12.0000", "unit_cost": "10.0000"}]}
            for c, cs, u in services])  # fmt: skip
        db.execute(insert(ledger), [
            {"connection_id": "at1", "contract_service_id": cs, "effective_date": MAPPED_ON, "unit_change": u,
             "unit_price": "12.0000", "unit_cost": "10.0000"} for _, cs, u in services])  # fmt: skip


def units_requests(sandbox: Any) -> int:
    stats = httpx.get(f"{sandbox.base_url}/sandbox/stats", timeout=10).json()
    return sum(n for endpoint, n in stats["requests"].items() if "ContractServiceUnits" in endpoint)


def run(label: str, url: str, count: int) -> None:
    from cryptography.fernet import Fernet

    from contractsync.adapters.clock import ManualClock
    from contractsync.adapters.db import migrate
    from contractsync.bootstrap import build_app_service
    from contractsync.sandbox.server import SandboxServer
    from contractsync.service.actor import ADMIN
    from contractsync.settings import Settings

    migrate.upgrade(url)
    with SandboxServer() as sandbox:
        settings = Settings(
            database_url=url,
            secret_key=Fernet.generate_key().decode(),
            data_dir=Path(tempfile.mkdtemp()),
            psa_allowed_hosts=sandbox.allowed_host,
        )
        service = build_app_service(
            settings, clock=ManualClock(datetime(2026, 6, 15, 9, tzinfo=UTC)), upgrade=False
        )
        started = time.perf_counter()
        services = seed_sandbox(sandbox, count)
        populate(service, sandbox, services)
        print(f"[{label}] {count} contract services set up in {time.perf_counter() - started:.1f} s")
        drifted = services[:: max(1, count // (count // 100 or 1))][: max(1, count // 100)]
        for contract, cs, _ in drifted:
            httpx.post(f"{sandbox.api_url}/ContractServiceAdjustments", headers=sandbox.headers, timeout=10, json={
                "contractID": contract, "contractServiceID": cs, "effectiveDate": "2026-04-10", "unitChange": 2,
                "adjustedUnitPrice": "12.0000", "adjustedUnitCost": "10.0000"}).raise_for_status()  # fmt: skip
        timing = TimedReads(service.context.connector_for)
        service.context.connector_for = timing
        before = units_requests(sandbox)
        started = time.perf_counter()
        report = service.reconciliation(ADMIN, "at1")
        elapsed = time.perf_counter() - started
        counted = units_requests(sandbox) - before
        print(
            f"[{label}] reconcile: {report['services_checked']} services, {report['reads']} reads "
            f"(sandbox counted {counted} ContractServiceUnits requests), {elapsed:.2f} s, of which "
            f"{timing.seconds:.2f} s waiting for the sandbox and {elapsed - timing.seconds:.2f} s contractsync; "
            f"drift {report['totals']['drift']['count']}, money impact {report['money_impact']} {report['currency']}"
        )
        started = time.perf_counter()
        fixed = service.reconciliation(ADMIN, "at1", fix=True)
        print(
            f"[{label}] reconcile + fix: {fixed['fixed']} corrections queued, {time.perf_counter() - started:.2f} s"
        )
        connector = service.context.connector_for(_connection_row(service))
        sample = services[:500]
        before = units_requests(sandbox)
        started = time.perf_counter()
        for _, cs, _ in sample:
            connector.service_units(cs, MAPPED_ON, END)
        naive = time.perf_counter() - started
        print(
            f"[{label}] baseline, one query per service: {units_requests(sandbox) - before} reads for "
            f"{len(sample)} services in {naive:.2f} s (≈ {count} reads, {naive * count / len(sample):.1f} s for {count})"
        )
    service.context.sessions.kw["bind"].dispose()


class TimedReads:
    """The connector factory, timing the units reads (the sandbox's share of a reconciliation)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.seconds = 0.0

    def __call__(self, row: Any) -> Any:
        connector = self._inner(row)
        timing = self

        class Timed:
            def __getattr__(self, name: str) -> Any:
                return getattr(connector, name)

            def service_units_of(self, ids: list[int]) -> Any:
                started = time.perf_counter()
                try:
                    return connector.service_units_of(ids)
                finally:
                    timing.seconds += time.perf_counter() - started

        return Timed()


def _connection_row(service: Any) -> Any:
    from sqlalchemy import select

    from contractsync.adapters.db.tables import connections

    with service.context.sessions() as session:
        return session.execute(select(connections).where(connections.c.id == "at1")).one()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=5000)
    args = parser.parse_args()
    run("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db", args.services)
    pg = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
    if pg:
        with temporary_postgres(pg) as url:
            run("postgresql", url, args.services)


if __name__ == "__main__":
    main()
