"""Benchmark: the daily sweep over many subscriptions (issue 3: 100,000 swept < 10 s, < 300 MB).

Plain script, prints its figures. Every subscription's term ends the day before the sweep date;
half renew (auto-renew on), half expire; one in ten is mapped, so those also write audit records
and outbox rows. Runs on SQLite (and PostgreSQL when CONTRACTSYNC_BENCH_POSTGRES_URL is set), in
a child process per run so the peak RSS is the sweep's own.

    .venv/bin/python benchmarks/bench_sweep.py [--subscriptions 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temp_database import temporary_postgres  # noqa: E402


def populate(url: str, count: int) -> None:
    from sqlalchemy import insert

    from contractsync.adapters.db import migrate
    from contractsync.adapters.db.books_table import service_books
    from contractsync.adapters.db.session import make_engine
    from contractsync.adapters.db.tables import (
        connections,
        contracts,
        customers,
        resellers,
        subscription_mappings,
        subscriptions,
    )

    migrate.upgrade(url)
    engine = make_engine(url)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as db:
        db.execute(insert(resellers).values(id="r1", name="R1", promotion_setting="pass_through"))
        db.execute(
            insert(customers).values(
                id="c1", reseller_id="r1", name="C", provider_margins={"microsoft": "20"}
            )
        )
        db.execute(insert(connections).values(
            id="at1", reseller_id="r1", kind="autotask", username="u", secret_encrypted="x", integration_code="c",
            timezone="UTC", settle_seconds=0, policies={}, created_at=now))  # fmt: skip
        db.execute(insert(contracts).values(connection_id="at1", contract_id=1, start_date=date(2024, 1, 1),
                                            end_date=date(2027, 12, 31), period_type="monthly"))  # fmt: skip
        batch = 5000
        for start in range(0, count, batch):
            rows = [
                {"id": f"s{i}", "customer_id": "c1", "reseller_id": "r1", "offer_id": "P:S:A", "offer_name": "E3",
                 "kind": "nce", "quantity": 1 + i % 50, "status": "active", "term": "P1Y", "billing_cycle": "monthly",
                 "start_date": date(2024, 1, 1), "end_date": date(2024, 12, 31), "auto_renew": i % 2 == 0,
                 "list_price": "10.00", "version": 1, "created_at": now, "updated_at": now}
                for i in range(start, min(start + batch, count))
            ]  # fmt: skip
            db.execute(insert(subscriptions), rows)
            mapped = [r for r in rows if int(r["id"][1:]) % 10 == 0]
            if mapped:
                db.execute(insert(subscription_mappings), [
                    {"subscription_id": r["id"], "connection_id": "at1", "contract_id": 1, "service_id": 1,
                     "contract_service_id": 10_000 + int(r["id"][1:]), "mapped_on": date(2024, 2, 1), "created_at": now}
                    for r in mapped])  # fmt: skip
                db.execute(insert(service_books), [
                    {"connection_id": "at1", "contract_service_id": 10_000 + int(r["id"][1:]), "contract_id": 1,
                     "service_start": date(2024, 2, 1),
                     "intents": [{"date": "2024-02-01", "units": r["quantity"], "unit_price": "12.0000", "unit_cost": "10.0000"}]}
                    for r in mapped])  # fmt: skip
    engine.dispose()


def child(url: str) -> None:
    """Runs in its own process: sweep, then report time and peak RSS as JSON."""
    from contractsync.adapters.clock import ManualClock
    from contractsync.bootstrap import build_app_service
    from contractsync.service.actor import ADMIN
    from contractsync.settings import Settings

    data = Path(tempfile.mkdtemp())
    service = build_app_service(
        Settings(database_url=url, data_dir=data),
        clock=ManualClock(datetime(2025, 1, 1, 1, tzinfo=UTC)),
        connector_factory=lambda row: None,
        upgrade=False,
    )
    load = os.getloadavg()[0]  # other processes on this machine slow a sweep down
    started = time.perf_counter()
    answer = service.sweep(ADMIN, {"date": "2025-01-01"})
    elapsed = time.perf_counter() - started
    again = service.sweep(ADMIN, {"date": "2025-01-01"})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "subscriptions": answer["subscriptions"], "counts": answer["counts"],
                      "second_run": again["subscriptions"], "peak_mb": peak_mb, "load": load}))  # fmt: skip


def run(label: str, url: str, count: int) -> dict[str, object]:
    populate(url, count)
    child_run = subprocess.run(
        [sys.executable, __file__, "--child", url], capture_output=True, text=True, cwd=ROOT
    )
    if child_run.returncode != 0:
        raise SystemExit(f"{label} sweep failed:\n{child_run.stderr[-3000:]}")
    output = child_run.stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    result["label"] = label
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    runs = [run("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db", args.subscriptions)]
    pg = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
    if pg:
        with temporary_postgres(pg) as url:
            runs.append(run("postgresql", url, args.subscriptions))
    print(
        f"{'backend':12} {'subs':>8} {'sweep s':>8} {'subs/s':>9} {'peak MB':>8} {'2nd run':>8} {'load':>5}"
        f"  target: < 10 s, < 300 MB ({os.cpu_count()} CPUs; load: 1-minute load average at the start)"
    )
    for r in runs:
        seconds = float(r["seconds"])  # type: ignore[arg-type]
        subs = int(r["subscriptions"])  # type: ignore[call-overload]
        print(
            f"{r['label']:12} {subs:>8} {seconds:>8.2f} {subs / seconds:>9.0f} {float(r['peak_mb']):>8.0f} {r['second_run']:>8}"
            f" {float(r['load']):>5.1f}"
        )  # type: ignore[arg-type]
        print(f"{'':12} outcomes: {r['counts']}")


if __name__ == "__main__":
    main()
