"""Connector overhead per call, and calls against the Autotask sandbox over loopback.

    .venv/bin/python benchmarks/bench_connector.py [--calls 2000] [--sandbox-calls 300]

Prints p50/p99 per scenario. "raw httpx" is the floor: the same request built by hand on the
same transport, with no budget, semaphore, retries, redaction or parsing into records.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import httpx
import structlog

from contractsync.adapters.autotask import (
    AutotaskClient,
    AutotaskConnector,
    ClientSettings,
    Credentials,
    OutboundPolicy,
)
from contractsync.adapters.autotask.adjustments import AdjustmentRequest
from contractsync.adapters.autotask.limits import UnlimitedBudget
from contractsync.sandbox.server import SandboxServer

CREDENTIALS = Credentials("bench@example.test", "bench-secret", "BENCH")
HEADERS = {"ApiIntegrationCode": "BENCH", "UserName": "bench@example.test", "Secret": "bench-secret"}
UNITS_PAGE = {
    "items": [
        {"id": i, "contractID": 100, "contractServiceID": 7, "serviceID": 3, "startDate": f"2026-{i:02d}-01T00:00:00",
         "endDate": f"2026-{i:02d}-28T00:00:00", "units": i, "price": 12.3456, "cost": 10, "approveAndPostDate": None}
        for i in range(1, 13)
    ],
    "pageDetails": {"count": 12, "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None},
}  # fmt: skip


def measure(label: str, call: Callable[[int], object], calls: int) -> None:
    for i in range(min(50, calls)):  # warm-up: connection pool, imports, caches
        call(i)
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        call(i + 50)
        samples.append(time.perf_counter() - started)
    samples.sort()
    p50 = statistics.median(samples) * 1e6
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1e6
    print(f"{label:<52} n={calls:<6} p50={p50:9.1f} µs  p99={p99:9.1f} µs")


def _mock_handler(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/query"):
        return httpx.Response(200, json=UNITS_PAGE)
    return httpx.Response(200, json={"itemId": 1})


def _adjustment(i: int, contract_service_id: int = 7) -> AdjustmentRequest:
    day = date(2026, 1, 1) + timedelta(days=i)
    return AdjustmentRequest(100, contract_service_id, day, 1, Decimal("12.3456"), Decimal("10"))


def bench_mock(calls: int) -> None:
    base = "https://bench.autotask.net/atservicesrest/v1.0"
    raw = httpx.Client(transport=httpx.MockTransport(_mock_handler), headers=HEADERS)
    client = AutotaskClient(
        CREDENTIALS,
        base_url=base,
        transport=httpx.MockTransport(_mock_handler),
        budget=UnlimitedBudget(),
        settings=ClientSettings(),
    )
    connector = AutotaskConnector(client)
    query = {"filter": [{"op": "eq", "field": "contractServiceID", "value": 7}], "MaxRecords": 500}
    print("MockTransport (no network): connector overhead")
    measure(
        "raw httpx: POST ContractServiceUnits/query + json()",
        lambda i: raw.post(f"{base}/ContractServiceUnits/query", json=query).json(),
        calls,
    )
    measure(
        "connector.service_units (12 rows)",
        lambda i: connector.service_units(7, date(2026, 1, 1), date(2026, 12, 31)),
        calls,
    )
    body = {"contractID": 100, "contractServiceID": 7, "effectiveDate": "2026-01-01T00:00:00", "unitChange": 1,
            "adjustedUnitPrice": 12.3456, "adjustedUnitCost": 10}  # fmt: skip
    measure(
        "raw httpx: POST ContractServiceAdjustments",
        lambda i: raw.post(f"{base}/ContractServiceAdjustments", json=body).json(),
        calls,
    )
    measure("connector.create_adjustment", lambda i: connector.create_adjustment(_adjustment(i)), calls)
    raw.close()
    client.close()


def bench_sandbox(calls: int) -> None:
    with SandboxServer() as sandbox, httpx.Client(base_url=sandbox.base_url, timeout=30) as admin:
        contracts = [{"id": 100, "companyID": 1, "contractName": "Bench", "contractType": 7,
                      "startDate": "2026-01-01T00:00:00", "endDate": "2035-12-31T00:00:00"}]  # fmt: skip
        admin.post(
            "/sandbox/seed",
            json={
                "companies": [{"id": 1, "companyName": "Bench Ltd"}],
                "services": [
                    {"id": 3, "name": "M365", "unitPrice": 10},
                    {"id": 4, "name": "E3", "unitPrice": 30},
                ],
                "contracts": contracts,
                "contractServices": [
                    {"id": 7, "contractID": 100, "serviceID": 3},
                    {"id": 8, "contractID": 100, "serviceID": 4},
                ],
            },
        ).raise_for_status()
        credentials = Credentials(sandbox.username, sandbox.secret, sandbox.integration_code)
        raw = httpx.Client(headers=dict(sandbox.headers), timeout=30)
        client = AutotaskClient(
            credentials,
            base_url=sandbox.api_url,
            budget=UnlimitedBudget(),
            outbound=OutboundPolicy.allowing(sandbox.base_url),
        )
        connector = AutotaskConnector(client)
        api = sandbox.api_url
        # The same filter the connector sends, so both read the same rows.
        conditions = [
            {"op": "eq", "field": "contractServiceID", "value": 7},
            {"op": "lte", "field": "startDate", "value": "2026-12-31T00:00:00"},
            {"op": "gte", "field": "endDate", "value": "2026-01-01T00:00:00"},
        ]
        query = json.dumps({"filter": conditions, "MaxRecords": 500})
        print("\nSandbox over loopback HTTP (includes the sandbox's own work)")
        measure(
            "raw httpx: POST ContractServiceUnits/query",
            lambda i: raw.post(
                f"{api}/ContractServiceUnits/query",
                content=query,
                headers={"Content-Type": "application/json"},
            ).json(),
            calls,
        )
        measure(
            "connector.service_units",
            lambda i: connector.service_units(7, date(2026, 1, 1), date(2026, 12, 31)),
            calls,
        )
        measure(
            "connector.create_adjustment (one per day)",
            lambda i: connector.create_adjustment(_adjustment(i, 8)),
            calls,
        )
        raw.close()
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--sandbox-calls", type=int, default=300)
    args = parser.parse_args()
    # Production logs exchanges at INFO and above; printing every debug line would be measured too.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    bench_mock(args.calls)
    bench_sandbox(args.sandbox_calls)


if __name__ == "__main__":
    main()
