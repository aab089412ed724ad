"""Benchmark: the group commit's own cost per single operation, by group size, without HTTP —
the Python CPU of the thread that runs the group's transaction, the CPU of its PostgreSQL
backend, and the SQL statements per group; beside a baseline commit measured in the same run.

    CONTRACTSYNC_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/bench_group_commit.py [--groups 1,16,32] [--operations 640]
        [--baseline 52d05e5 | --no-baseline]

Each source and group size runs in a child process on a fresh database (`bench_sweep.populate`,
one subscription in ten mapped): a quantity change on `--operations` distinct subscriptions,
handed to `GroupCommit` that many at a time (as the API's event loop hands them over), after
two groups to warm up. CPU time does not follow the machine's load as wall time does: what to
compare on a shared machine. PostgreSQL's figure is the backends of the benchmark's database
(`/proc`, so the server must run on this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

BASELINE = "52d05e5"  # main before this benchmark's session cut the group commit's cost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", default="1,16,32", help="group sizes, comma-separated")
    parser.add_argument("--operations", type=int, default=640, help="measured operations per group size")
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("URL", "GROUP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.operations)))
        return
    from bench_operations import checkout
    from temp_database import temporary_postgres

    base = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
    work = Path(tempfile.mkdtemp(prefix="bench-group-commit-"))
    sources: list[tuple[str, Path | None]] = [("current", None)]
    if not args.no_baseline:
        sources.insert(0, (f"baseline {args.baseline}", checkout(args.baseline, work)))
    print(
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.operations} operations per group size"
    )
    print(
        "per operation: the group commit thread's CPU / its PostgreSQL backend's CPU; SQL statements a group"
    )
    print(f"{'database, group size':28}" + "".join(f"{name:>36}" for name, _ in sources))
    for database in ["SQLite"] + (["PostgreSQL"] if base else []):
        for group in [int(g) for g in args.groups.split(",")]:
            cells = []
            for _, source in sources:
                env = dict(os.environ)
                if source is not None:
                    env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")])
                if database == "PostgreSQL":
                    assert base is not None
                    with temporary_postgres(base) as url:
                        figures = run_child(url, group, args.operations, env)
                else:
                    figures = run_child(
                        f"sqlite:///{work}/{uuid.uuid4().hex[:8]}.db", group, args.operations, env
                    )
                postgres = f"{figures['postgres_ms']:.3f}" if figures["postgres_ms"] is not None else "-"
                cells.append(f"{figures['python_ms']:.3f} / {postgres} ms, {figures['statements']:.0f}")
            print(
                f"{database + ', groups of ' + str(group):28}" + "".join(f"{c:>36}" for c in cells),
                flush=True,
            )


def run_child(url: str, group: int, operations: int, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", url, str(group), "--operations", str(operations)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def child(url: str, group: int, operations: int) -> dict[str, Any]:
    from bench_operations import mapped_subscriptions
    from bench_sweep import populate
    from sqlalchemy import event

    from contractsync.adapters.clock import SystemClock
    from contractsync.adapters.logging import configure_logging
    from contractsync.bootstrap import build_app_service
    from contractsync.service import operation_batch
    from contractsync.service.actor import ADMIN
    from contractsync.settings import Settings

    configure_logging(json=True, level="WARNING")
    rounds = max(1, operations // group)
    populate(url, group * (rounds + 2) * 10)
    service = build_app_service(
        Settings(database_url=url, data_dir=Path(tempfile.mkdtemp())),
        clock=SystemClock(),
        connector_factory=lambda row: None,
        upgrade=False,
    )
    engine = service.context.sessions.kw["bind"]
    ids = iter(mapped_subscriptions(engine))
    group_commit = service._operations

    def items() -> list[Any]:
        return [
            operation_batch.Item(
                0, next(ids), operation_batch.as_command({"type": "update_quantity", "quantity": 60 + n % 7}),
                ADMIN, strict=False,
            )
            for n in range(group)
        ]  # fmt: skip

    for _ in range(2):  # warm: statements prepared, caches filled
        group_commit._commit(items())
    statements = 0

    def counted(*_: Any) -> None:
        nonlocal statements
        statements += 1

    batches = [items() for _ in range(rounds)]
    event.listen(engine, "before_cursor_execute", counted)
    postgres_before, cpu_before = backend_cpu(url), time.thread_time()
    for batch in batches:
        done = group_commit._commit(batch)
        assert all(item.error is None for item in done), next(i.error for i in done if i.error)
    cpu, postgres_after = time.thread_time() - cpu_before, backend_cpu(url)
    count = rounds * group
    return {
        "python_ms": 1000 * cpu / count,
        "postgres_ms": None
        if postgres_before is None or postgres_after is None
        else 1000 * (postgres_after - postgres_before) / count,
        "statements": statements / rounds,
    }


def backend_cpu(url: str) -> float | None:
    """CPU seconds of the PostgreSQL processes serving the database of `url` (None: SQLite)."""
    if not url.startswith("postgresql"):
        return None
    database = url.rsplit("/", 1)[1].split("?")[0]
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            if f" {database} " not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


if __name__ == "__main__":
    main()
