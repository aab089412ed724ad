"""Ledger rebuild benchmark: what a verification costs to write a contract service's history.

    .venv/bin/python benchmarks/bench_ledger_rebuild.py [--dates 50 250 1000] [--repeat 20]

After an unknown outcome (a timeout, a SIGKILL, an applied-then-500) the worker reads the service's
units from Autotask and rewrites our ledger from the first date it knows (`ledger_repo.
replace_from`): at the goal chaos load a service holds ~250 dates and ~940 verifications run. The
baseline in the same run is session 17's way, one upsert per date (`ledger_repo.record` in a loop;
session 17 also built that upsert anew for each date, which cost more still — 265 ms for 250
dates on PostgreSQL in a scratch measurement). SQLite always; PostgreSQL when CONTRACTSYNC_BENCH_POSTGRES_URL (or
CONTRACTSYNC_TEST_POSTGRES_URL) is set. Prints per backend, method and history length: rebuilds/s,
p50/p95 wall ms, CPU ms of this process per rebuild, statements per rebuild; then peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench_delivery import available_backends, fresh_database
from sqlalchemy import delete, event
from sqlalchemy.orm import Session
from tests.fakes.outbox_data import seed_connection

from contractsync.adapters.db import ledger_repo, migrate
from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.adapters.db.tables import ledger
from contractsync.ports.outbox import LedgerEntry

FIRST = date(2026, 1, 1)


def history(dates: int, units: int) -> list[LedgerEntry]:
    price, cost = Decimal("24.0000"), Decimal("20.0000")
    return [LedgerEntry(FIRST + timedelta(days=n), units, price, cost, 9000 + n, None) for n in range(dates)]


def one_upsert_per_date(session: Session, service: int, entries: list[LedgerEntry]) -> None:
    """Session 17's `replace_from`: the delete, then every date on its own."""
    session.execute(
        delete(ledger).where(
            ledger.c.connection_id == "k1",
            ledger.c.contract_service_id == service,
            ledger.c.effective_date >= FIRST,
        )
    )
    for entry in entries:
        ledger_repo.record(session, "k1", service, entry)


def one_statement_run(session: Session, service: int, entries: list[LedgerEntry]) -> None:
    ledger_repo.replace_from(session, "k1", service, FIRST, entries)


@dataclass
class Result:
    backend: str
    method: str
    dates: int
    walls: list[float]
    cpu: float
    statements: float


def measure(backend: str, url: str, dates: int, repeat: int) -> list[Result]:
    engine = make_engine(url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        seed_connection(session, datetime.now(UTC), "k1")
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))
    methods = [("one upsert per date", one_upsert_per_date), ("one statement run", one_statement_run)]
    results = {name: Result(backend, name, dates, [], 0.0, 0.0) for name, _ in methods}
    for turn in range(repeat + 1):  # the first turn warms up; the methods alternate
        for service, (name, rebuild) in enumerate(methods, start=1):
            entries = history(dates, units=1 + turn % 3)
            before, cpu, started = statements[0], time.thread_time(), time.perf_counter()
            with transaction(sessions) as session:
                rebuild(session, service, entries)
            if turn:
                result = results[name]
                result.walls.append(time.perf_counter() - started)
                result.cpu += time.thread_time() - cpu
                result.statements += statements[0] - before
    engine.dispose()
    for result in results.values():
        result.cpu /= repeat
        result.statements /= repeat
    return list(results.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dates", type=int, nargs="+", default=[50, 250, 1000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    backends = available_backends()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            for dates in args.dates:
                with fresh_database(backend, Path(tmp)) as url:
                    migrate.upgrade(url)
                    results += measure(backend, url, dates, args.repeat)
    header = (
        f"{'backend':9} {'method':20} {'dates':>6} {'rebuilds/s':>10} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'CPU ms':>8} {'statements':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        p95 = statistics.quantiles(r.walls, n=20)[-1]
        print(
            f"{r.backend:9} {r.method:20} {r.dates:6d} {len(r.walls) / sum(r.walls):10.1f}"
            f" {statistics.median(r.walls) * 1000:8.1f} {p95 * 1000:8.1f} {r.cpu * 1000:8.1f} {r.statements:10.1f}"
        )
    for backend in backends:
        for dates in args.dates:
            old, new = (r for r in results if (r.backend, r.dates) == (backend, dates))
            print(
                f"{backend}, {dates} dates: one statement run {statistics.median(old.walls) / statistics.median(new.walls):.1f}x"
                f" faster, {old.cpu / new.cpu:.1f}x less CPU than one upsert per date"
            )
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
