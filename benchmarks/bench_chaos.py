"""The goal-load chaos run of issue 15, as an operator would stress contractsync.

    CONTRACTSYNC_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/bench_chaos.py [--operations 10000] [--workers 4] [--kills 20] [--runs 3] [--serve-workers 2]

One `contractsync serve` (`--serve-workers N`: with N processes), `--workers` `contractsync worker` processes on a fresh PostgreSQL database,
the Autotask sandbox as a process (10 % of adjustment requests fail: 500, 429, applied-then-500,
timeout, connection reset), `--operations` quantity changes over 40 subscriptions sent one at a
time through the REST API by 4 clients (increasing dates per subscription), `--kills` SIGKILLs of a
random worker (restarted at once), spread over the changes and none after the last one
(`chaos_stack.kill_points`). `--runs` consecutive runs, each with its own seed. Prints per run: accepted, 5xx answers, time from the last
accepted change to fully delivered, Autotask calls per change, duplicate-date rejections, and the
comparison of Autotask's units and price with the plan on every date of every contract service.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temp_database import temporary_postgres  # noqa: E402
from tests.integration.delivery.chaos_stack import ChaosConfig, run_chaos, stack  # noqa: E402

from contractsync.adapters.db import migrate  # noqa: E402


def main() -> int:
    # Killed with SIGTERM, still end the processes and drop the database (the `finally` blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="changes per second sent by all clients together (default: each as fast as it is answered)",
    )
    parser.add_argument("--fault-rate", type=float, default=0.10)
    parser.add_argument("--lease-seconds", type=float, default=30.0)
    parser.add_argument("--heartbeat-seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--serve-workers", type=int, default=1, help="API processes: `contractsync serve --workers N`"
    )
    parser.add_argument("--seed", type=int, default=1, help="Seed of the first run (workload and kills).")
    args = parser.parse_args()
    base = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
    if not base:
        print("set CONTRACTSYNC_BENCH_POSTGRES_URL (several worker processes need PostgreSQL)")
        return 2
    failed = False
    settled: list[float] = []
    for run in range(1, args.runs + 1):
        config = ChaosConfig(
            operations=args.operations, subscriptions=args.subscriptions, workers=args.workers,
            kills=args.kills, clients=args.clients, fault_rate=args.fault_rate,
            lease_seconds=args.lease_seconds, heartbeat_seconds=args.heartbeat_seconds, seed=args.seed + run - 1,
            rate=args.rate,
        )  # fmt: skip
        with temporary_postgres(base) as url:
            migrate.upgrade(url)
            with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
                print(f"run {run}: {config}, serve --workers {args.serve_workers}", flush=True)
                began = time.monotonic()
                with stack(
                    url,
                    Path(tmp),
                    budget=config.budget,
                    thread_limit=config.thread_limit,
                    serve_workers=args.serve_workers,
                ) as running:
                    result = run_chaos(running, config, log=lambda line: print(line, flush=True))
                total = time.monotonic() - began
        exact = not result.mismatches
        ok = (
            exact
            and result.answered_5xx == 0
            and result.delivered_after_last_accept < 60
            and not result.ledger_drift
        )
        failed |= not ok
        settled.append(result.delivered_after_last_accept)
        print(
            f"run {run}: {result.accepted} accepted of {config.operations} in {result.send_seconds:.0f} s "
            f"({result.accepted / result.send_seconds:.0f}/s), refused 4xx {result.refused_4xx}, "
            f"5xx {result.answered_5xx}, transport errors {result.transport_errors}; "
            f"{result.kills} SIGKILLs; faults injected {sum(result.faults.values())} {result.faults}\n"
            f"  fully delivered {result.delivered_after_last_accept:.1f} s after the last accepted change "
            f"(target < 60 s), {result.open_at_last_accept} outbox rows open then "
            f"({result.open_at_last_accept / max(result.delivered_after_last_accept, 0.1):.1f}/s drained); "
            f"Autotask calls per change {result.calls_per_change:.3f} "
            f"({result.adjustment_requests} adjustment posts, {result.read_requests} reads); "
            f"duplicate-date rejections {result.duplicate_rejections}; the sandbox's refusals {result.rejections}\n"
            f"  every date: {result.services_checked} contract services, {result.dates_checked} dates "
            f"compared, {len(result.mismatches)} differ from the plan; ledger self-check: "
            f"{result.ledger_drift} of {result.verified_services} verified services drift; whole run {total:.0f} s "
            f"-> {'OK' if ok else 'FAILED'}",
            flush=True,
        )
        for line in result.mismatches[:20]:
            print("  mismatch:", line)
    print(
        f"{args.runs} consecutive runs: {'all OK' if not failed else 'NOT all OK'}; fully delivered "
        f"{', '.join(f'{s:.1f}' for s in settled)} s after the last accepted change (target < 60 s each)",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
