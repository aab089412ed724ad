"""Benchmark: 32 HTTP clients against `contractsync serve --workers N` on PostgreSQL, a baseline
commit's and the current code's **side by side, in alternating slices**.

    CONTRACTSYNC_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/bench_serve_alternating.py [--baseline e97cbf8]
        [--slices 16] [--per-slice 1200] [--serve-workers 2]

On a shared VM the speed of the same code moves by ±20 % within minutes (`README.md`, session
16), more than a change of a few per cent; `bench_operations.py` measures baseline and current
one after the other, so a phase change between them reads as a difference. Here both servers run
at once, each on its own fresh database (`bench_sweep.populate`; `ANALYZE` after a warm-up of
`WARM` operations), and the 32 clients (`bench_operations.concurrent_clients`: keep-alive
connections, each operation on a subscription never changed before) load one server at a time,
in slices of `--per-slice` operations, alternating which goes first; an idle server costs
nothing. Each slice prints both servers' operations/s, `serve`'s CPU per operation (its
processes), PostgreSQL's CPU per operation (every `postgres` process: autovacuum of the other
database included — the noisiest figure) and operations per group commit; the summary gives the
medians and in how many slices the current code was faster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_operations as bench  # noqa: E402
from bench_sweep import populate  # noqa: E402
from temp_database import temporary_postgres  # noqa: E402

WARM = 500  # operations each server answers before the first slice (statements prepared)


def change(_subscription_id: str, n: int) -> dict[str, Any]:
    return {"type": "update_quantity", "quantity": 60 + n % 7}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="e97cbf8")
    parser.add_argument("--slices", type=int, default=16)
    parser.add_argument("--per-slice", type=int, default=1200)
    parser.add_argument("--serve-workers", type=int, default=2)
    args = parser.parse_args()
    base_url = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
    if not base_url:
        print("skipped: set CONTRACTSYNC_BENCH_POSTGRES_URL (a PostgreSQL server on this machine)")
        return
    from sqlalchemy import create_engine, text

    work = Path(tempfile.mkdtemp(prefix="bench-serve-alternating-"))
    trees = {f"baseline {args.baseline}": bench.checkout(args.baseline, work), "current": None}
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.slices} slices of {args.per_slice} "
          f"operations from {bench.CLIENTS} clients, `serve --workers {args.serve_workers}` each")  # fmt: skip
    with ExitStack() as stack:
        servers, subscriptions, engines = {}, {}, {}
        for name, tree in trees.items():
            url = stack.enter_context(temporary_postgres(base_url))
            populate(url, (args.per_slice * args.slices + 2 * WARM) * 10)  # one in ten is mapped
            engine = create_engine(url)
            subscriptions[name] = iter(bench.mapped_subscriptions(engine))
            engines[name] = engine
            python_path = os.environ.get("PYTHONPATH", "")
            os.environ["PYTHONPATH"] = str(tree) if tree else ""  # the serve processes import it
            try:
                servers[name] = stack.enter_context(
                    bench.ServeCommand(url, work / name.split()[0], args.serve_workers)
                )
            finally:
                os.environ["PYTHONPATH"] = python_path

        def take(name: str, count: int) -> list[str]:
            return [next(subscriptions[name]) for _ in range(count)]

        for name, server in servers.items():
            bench.concurrent_clients(server, take(name, WARM), take(name, WARM), change)
            # statistics with the audit log and outbox no longer empty: taken on empty tables they
            # make PostgreSQL check each new row's foreign key by reading the whole audit log
            with engines[name].connect().execution_options(isolation_level="AUTOCOMMIT") as db:
                db.execute(text("ANALYZE"))
            engines[name].dispose()
        measured: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in servers}
        names = list(servers)
        for n in range(args.slices):
            for name in names if n % 2 == 0 else names[::-1]:
                postgres_before = bench.PostgresLoad.cpu_seconds() or 0.0
                figures = bench.concurrent_clients(servers[name], [], take(name, args.per_slice), change)
                postgres = (
                    1000 * ((bench.PostgresLoad.cpu_seconds() or 0.0) - postgres_before) / args.per_slice
                )
                measured[name].append((figures["http_concurrent"], figures["http_concurrent_server_cpu"],
                                       postgres, figures["group_size"]))  # fmt: skip
            print(f"slice {n + 1:2}: " + "; ".join(
                f"{name} {rate:,.0f} /s, serve {cpu:.2f} ms, PostgreSQL {pg:.2f} ms, {group:.1f} a group"
                for name, (rate, cpu, pg, group) in ((name, measured[name][-1]) for name in names)
            ), flush=True)  # fmt: skip
    print()
    print(f"{'medians over the slices':34}" + "".join(f"{name:>22}" for name in names))
    for title, index, form in (("operations/s", 0, "{:,.0f}"), ("serve CPU ms per operation", 1, "{:.3f}"),
                               ("PostgreSQL CPU ms per operation", 2, "{:.3f}"), ("operations per group", 3, "{:.1f}")):  # fmt: skip
        print(f"{title:34}" + "".join(f"{form.format(statistics.median(r[index] for r in measured[name])):>22}" for name in names))  # fmt: skip
    faster = sum(current[0] > baseline[0] for baseline, current in zip(*measured.values(), strict=True))
    print(f"the current code answered more operations/s in {faster} of {args.slices} slices")


if __name__ == "__main__":
    main()
