"""Throughput and latency of the Autotask sandbox over loopback.

Starts an in-process sandbox, seeds one contract with a number of contract services, then
creates adjustments and runs ContractServiceUnits queries from a few client threads (at most the
3 the thread limit allows per endpoint). Bounded loops; stops by itself.

    .venv/bin/python benchmarks/bench_sandbox.py [--adjustments 2000] [--queries 1000] [--threads 3]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta

import httpx

from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import SandboxConfig

CONTRACT_START = date(2024, 1, 1)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_parallel(
    count: int,
    threads: int,
    make_client: Callable[[], httpx.Client],
    call: Callable[[httpx.Client, int], httpx.Response],
) -> tuple[float, list[float], int]:
    """Run `count` calls spread over `threads` clients; (seconds, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def worker(first: int) -> None:
        nonlocal failures
        with make_client() as client:
            for n in range(first, count, threads):
                started = time.perf_counter()
                response = call(client, n)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    failures += response.status_code != 200

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return time.perf_counter() - started, latencies, failures


def report(name: str, seconds: float, latencies: list[float], failures: int) -> None:
    ms = [latency * 1000 for latency in latencies]
    print(
        f"{name:<12} {len(ms):>6} requests  {len(ms) / seconds:8.1f}/s  "
        f"p50 {statistics.median(ms):6.2f} ms  p95 {percentile(ms, 0.95):6.2f} ms  "
        f"p99 {percentile(ms, 0.99):6.2f} ms  failures {failures}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200, help="contract services on the contract")
    parser.add_argument("--adjustments", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=3)
    args = parser.parse_args()

    config = SandboxConfig(budget=10_000_000)  # measure the sandbox, not the budget
    with SandboxServer(config) as server:
        seed = httpx.post(
            f"{server.base_url}/sandbox/seed",
            json={
                "companies": [{"id": 1, "companyName": "Contoso Ltd", "companyType": 1}],
                "contracts": [
                    {
                        "id": 10,
                        "companyID": 1,
                        "contractName": "Bench",
                        "contractType": 7,
                        "startDate": "2024-01-01",
                        "endDate": "2030-12-31",
                    }
                ],
                "services": [
                    {"id": 100 + n, "name": f"Service {n}", "unitPrice": "12.5", "unitCost": "10"}
                    for n in range(args.services)
                ],
                "contractServices": [{"contractID": 10, "serviceID": 100 + n} for n in range(args.services)],
            },
            timeout=60,
        ).json()
        contract_services: list[int] = seed["contractServices"]

        def make_client() -> httpx.Client:
            return httpx.Client(headers=server.headers, timeout=30)

        def adjust(client: httpx.Client, n: int) -> httpx.Response:
            # Spread over the services; each service gets one adjustment per day, never the same day.
            service = contract_services[n % len(contract_services)]
            day = CONTRACT_START + timedelta(days=n // len(contract_services))
            return client.post(
                f"{server.api_url}/ContractServiceAdjustments",
                json={
                    "contractID": 10,
                    "contractServiceID": service,
                    "effectiveDate": day.isoformat(),
                    "unitChange": 1,
                    "adjustedUnitPrice": 12.5,
                    "adjustedUnitCost": 10,
                },
            )

        def query(client: httpx.Client, n: int) -> httpx.Response:
            service = contract_services[n % len(contract_services)]
            return client.post(
                f"{server.api_url}/ContractServiceUnits/query",
                json={
                    "filter": [
                        {"op": "eq", "field": "contractServiceID", "value": service},
                        {"op": "gte", "field": "endDate", "value": "2024-03-01"},
                        {"op": "lte", "field": "startDate", "value": "2024-06-30"},
                    ]
                },
            )

        print(
            f"sandbox at {server.base_url}, {len(contract_services)} contract services, {args.threads} threads"
        )
        report("adjustments", *run_parallel(args.adjustments, args.threads, make_client, adjust))
        report("queries", *run_parallel(args.queries, args.threads, make_client, query))


if __name__ == "__main__":
    main()
