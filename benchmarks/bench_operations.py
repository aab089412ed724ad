"""Benchmark: one quantity change, through the façade and through the REST API, on SQLite and
(with CONTRACTSYNC_BENCH_POSTGRES_URL set) PostgreSQL — each figure beside the baseline measured
in the same run: the same measurements on the source of `--baseline` (default: the commit before
issue 12 item 9 and issue 15 item 4, checked out from git into a temporary directory).

    CONTRACTSYNC_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/bench_operations.py [--operations 200] [--baseline c078a5a]

Per database and source:
- SQL statements per operation (SQLAlchemy's `before_cursor_execute`; COMMIT is not one);
- one operation at a time through the façade and through the REST API (`contractsync serve`'s
  app under uvicorn, a process of its own, request log lines on) in turn, ten each, so that both
  see the same machine load: latency p50/p95/p99, operations/s, HTTP minus façade, and CPU per
  operation (the façade's thread; the server process, idle while the façade works);
- façade: 32 threads at once (group commit), batches of 100;
- REST API: 32 concurrent keep-alive clients, after a quarter as many operations to warm the
  server (operations/s, the server's CPU per operation, the
  operations per group commit and SQL statements per operation in the server — `serve_api.py`
  counts them — and the benchmark client's own CPU share: it runs on the same cores);
- for the current source: accepted → sent latency with a worker, at 20 operations/s.

CPU per operation is what to compare on a busy machine: latencies and rates follow the load of
whatever else runs (the load average after each source's measurement is printed).

`--no-baseline` measures the current source only; `--no-delivery` leaves out accepted → sent;
`--repeat N` measures each source N times, in turn, and reports the means (and each run's rate
with 32 clients): on a 2-core machine single runs swing by ±20 %. Each measurement runs in a child process on
a fresh database (one subscription in ten mapped, as `bench_sweep.populate` makes them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
BASELINE_TREE_ENV = "CONTRACTSYNC_BENCH_BASELINE_TREE"

BASELINE = "c078a5a"  # main before the statement cut and the HTTP path work
BATCH = 100
CLIENTS = 32
# Single operations go through the façade and through HTTP in turn, this many at a time: close
# enough in time to see the same machine load, few enough switches that SQLite's page cache,
# dropped whenever the other process wrote the file, does not count against either side.
IN_TURN = 10
TOKEN = "bench-operations-token-0123456789"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(values: list[float]) -> dict[str, float]:
    return {
        "p50": 1000 * statistics.median(values),
        "p95": 1000 * percentile(values, 0.95),
        "p99": 1000 * percentile(values, 0.99),
        "rate": len(values) / sum(values),
    }


# --- the parent: databases, sources, the table ------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--concurrent-operations", type=int, default=1000)
    parser.add_argument("--baseline", default=BASELINE, help="git commit measured as the baseline")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--only", choices=["SQLite", "PostgreSQL"], help="measure on one database only")
    parser.add_argument(
        "--no-delivery",
        action="store_true",
        help="leave out accepted -> sent (its worker first delivers every earlier phase's adjustment at "
        "the Autotask request budget's pace: minutes for thousands)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each source this many times, in turn, and report the means (single runs on a "
        "small machine swing by ±20 %%)",
    )
    parser.add_argument(
        "--serve-workers",
        type=int,
        default=1,
        help="the 32-client phase through `contractsync serve --workers N` (N > 1, PostgreSQL) instead "
        "of one process; a baseline older than `serve --workers` keeps one",
    )
    parser.add_argument("--child", nargs=2, metavar=("URL", "FLAGS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.operations, args.concurrent_operations, args.child[1])
        return
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench-operations-"))
    sources: list[tuple[str, Path | None]] = [("current", None)]
    if not args.no_baseline:
        sources.insert(0, (f"baseline {args.baseline}", checkout(args.baseline, work)))
    backends = [("SQLite", None)]
    postgres = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
    if postgres:
        backends.append(("PostgreSQL", postgres))
    backends = [(label, base) for label, base in backends if args.only in (None, label)]
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.operations} operations one at a "
          f"time, {args.concurrent_operations} from {CLIENTS} concurrent clients", flush=True)  # fmt: skip
    if args.serve_workers > 1:
        served = [name for name, source in sources if has_serve_workers(source)]
        print(f"PostgreSQL, {' and '.join(served)}: {CLIENTS} clients through `serve --workers "
              f"{args.serve_workers}`", flush=True)  # fmt: skip
    for label, base in backends:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sources}
        for turn in range(args.repeat):  # the sources in turn, so each sees the machine's swings
            for name, source in sources:
                flags = "e2e" if source is None and not args.no_delivery and turn == 0 else "plain"
                if base is not None and args.serve_workers > 1 and has_serve_workers(source):
                    flags += f",workers={args.serve_workers}"
                runs[name].append(run_child(label, base, source, work, args, flags))
        if args.repeat > 1:
            for name, measured in runs.items():
                rates = ", ".join(f"{f['http_concurrent']:.0f}" for f in measured)
                print(f"{label}, {name}: {CLIENTS} clients, operations/s of each run: {rates}", flush=True)
        report(label, {name: mean_figures(measured) for name, measured in runs.items()})
    print(f"\n(whole run {time.perf_counter() - started:.0f} s)")


def has_serve_workers(source: Path | None) -> bool:
    """Whether a source (None: the current one) has `serve --workers`."""
    return source is None or (source / "contractsync" / "cli" / "serve_processes.py").exists()


def mean_figures(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean of each figure over repeated runs (nested figures, such as latencies, too); a figure
    only some runs have (accepted -> sent, measured in the first) is the mean of those."""
    keys = dict.fromkeys(key for figures in measured for key in figures)
    mean: dict[str, Any] = {}
    for key in keys:
        values = [figures[key] for figures in measured if key in figures]
        if isinstance(values[0], dict):
            mean[key] = mean_figures(values)
        elif all(isinstance(value, (int, float)) for value in values):
            mean[key] = statistics.fmean(values)
        else:
            mean[key] = values[0]
    return mean


def checkout(commit: str, work: Path) -> Path:
    """The source tree of `commit` (its `src/`, and its `tests/fakes/` that speak its ports), from
    this repository's git."""
    target = work / f"src-{commit}"
    target.mkdir()
    wanted = ["src", "tests/__init__.py", "tests/fakes", "tests/sandbox_autotask.py"]
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", commit, *wanted],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    archive = subprocess.run(["git", "archive", commit, *listed], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def run_child(
    label: str, base: str | None, source: Path | None, work: Path, args: argparse.Namespace, flags: str
) -> dict[str, Any]:
    from temp_database import temporary_postgres

    env = dict(os.environ)
    if source is not None:  # the baseline's package before the installed one
        env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")])
        env[BASELINE_TREE_ENV] = str(source.parent)
    with ExitStack() as stack:
        url = (
            f"sqlite:///{work}/{uuid.uuid4().hex[:8]}.db"
            if base is None
            else stack.enter_context(temporary_postgres(base))
        )
        command = [sys.executable, __file__, "--child", url, flags, "--operations", str(args.operations),
                   "--concurrent-operations", str(args.concurrent_operations)]  # fmt: skip
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{label} child failed:\n{done.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures


def report(label: str, figures: dict[str, dict[str, Any]]) -> None:
    names = list(figures)
    print(f"\n{label}")
    print(f"{'measure':52}" + "".join(f"{name:>22}" for name in names))

    def row(title: str, value: Callable[[dict[str, Any]], str]) -> None:
        print(f"{title:52}" + "".join(f"{value(figures[n]):>22}" for n in names))

    def lat(key: str) -> Callable[[dict[str, Any]], str]:
        return lambda f: f"{f[key]['p50']:.1f} / {f[key]['p95']:.1f} / {f[key]['p99']:.1f}"

    row("SQL statements per operation", lambda f: f"{f['statements']:.1f}")
    row("façade: one at a time, ms p50 / p95 / p99", lat("facade"))
    row("façade: one at a time, operations/s", lambda f: f"{f['facade']['rate']:.0f}")
    row("façade: one at a time, CPU ms per operation", lambda f: f"{f['facade_cpu']:.2f}")
    row(f"façade: {CLIENTS} threads at once, operations/s", lambda f: f"{f['facade_concurrent']:.0f}")
    row(f"façade: batches of {BATCH}, operations/s", lambda f: f"{f['batch_rate']:.0f}")
    row("HTTP: one at a time, ms p50 / p95 / p99", lat("http"))
    row("HTTP: one at a time, operations/s", lambda f: f"{f['http']['rate']:.0f}")
    row("HTTP minus façade, ms p50", lambda f: f"{f['http']['p50'] - f['facade']['p50']:.1f}")
    row("HTTP: one at a time, server CPU ms per operation", lambda f: f"{f['http_server_cpu']:.2f}")
    row("HTTP server CPU minus façade CPU, ms", lambda f: f"{f['http_server_cpu'] - f['facade_cpu']:.2f}")
    row(f"HTTP: {CLIENTS} concurrent clients, operations/s", lambda f: f"{f['http_concurrent']:.0f}")
    row(f"HTTP: {CLIENTS} clients, server CPU ms per operation",
        lambda f: f"{f['http_concurrent_server_cpu']:.2f}")  # fmt: skip
    row(f"HTTP: {CLIENTS} clients, operations per group commit", lambda f: f"{f['group_size']:.1f}")
    row(f"HTTP: {CLIENTS} clients, SQL statements per operation",
        lambda f: _figure(f, "http_concurrent_statements"))  # fmt: skip
    row(
        f"HTTP: {CLIENTS} clients, PostgreSQL CPU ms per operation",
        lambda f: _figure(f, "http_concurrent_postgres_cpu"),
    )
    row(f"HTTP: {CLIENTS} clients, PostgreSQL rows read per operation",
        lambda f: _figure(f, "http_concurrent_rows_read", "{:.0f}"))  # fmt: skip
    row(f"HTTP: {CLIENTS} clients, the client's CPU, % of a core",
        lambda f: f"{100 * f['client_cpu_share']:.0f}")  # fmt: skip
    row("load average (1 min) after the measurement", lambda f: f"{f['load']:.1f}")
    current = figures[names[-1]]
    if "e2e" in current:
        print(f"{'accepted -> sent ms p50 / p99 (20 ops/s, worker)':52}{'':>22}"
              f"{current['e2e'][0]:>13.0f} / {current['e2e'][1]:.0f}")  # fmt: skip
        print(f"{'Autotask calls per delivered adjustment':52}{'':>22}{current['calls_per_sent']:>22.2f}")


def _figure(figures: dict[str, Any], key: str, form: str = "{:.2f}") -> str:
    """A figure only some databases give (PostgreSQL's own), or "-"."""
    return form.format(figures[key]) if key in figures else "-"


# --- the child: one source on one database ----------------------------------------------------------


def child(url: str, count: int, concurrent: int, flags: str) -> None:
    from bench_sweep import populate  # puts the repository first on sys.path again

    if os.environ.get(BASELINE_TREE_ENV):  # a baseline child: its own test fakes, not today's
        sys.path.insert(0, os.environ[BASELINE_TREE_ENV])
    from sqlalchemy import event

    from contractsync.adapters.clock import SystemClock
    from contractsync.adapters.logging import configure_logging
    from contractsync.bootstrap import build_app_service
    from contractsync.service.actor import ADMIN
    from contractsync.settings import Settings

    configure_logging(json=True, level="WARNING")
    work = Path(tempfile.mkdtemp())
    # Enough subscriptions that no phase changes one twice (a change then re-plans nothing pending).
    populate(url, (4 * count + 2 * concurrent + concurrent // 4) * 10)
    engine_rows = service_rows(url)
    autotask = autotask_for(work, [m.contract_service_id for m in engine_rows])
    service = build_app_service(Settings(database_url=url, data_dir=work), clock=SystemClock(),
                                connector_factory=lambda row: autotask.connector, upgrade=False)  # fmt: skip
    engine = service.context.sessions.kw["bind"]
    ids = iter(mapped_subscriptions(engine))

    def take(n: int) -> list[str]:
        return [next(ids) for _ in range(n)]

    def change(subscription_id: str, n: int) -> dict[str, Any]:
        return {"type": "update_quantity", "quantity": 60 + n % 7}

    statements = 0

    def counted(*_: Any) -> None:
        nonlocal statements
        statements += 1

    figures: dict[str, Any] = {}
    # The API: the same app `contractsync serve` runs, in a process of its own.
    with ApiServer(url, work) as server:
        # One at a time, façade and HTTP in turn (the same moments, so the same machine load);
        # statements counted over the façade's.
        event.listen(engine, "before_cursor_execute", counted)
        figures.update(one_at_a_time(service, server, take(count), take(count), change))
        event.remove(engine, "before_cursor_execute", counted)
        figures["statements"] = statements / count
        # Façade, 32 threads (group commit).
        subs = take(concurrent)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(
                pool.map(
                    lambda n: service.apply_operation(ADMIN, subs[n], change(subs[n], n)), range(concurrent)
                )
            )
        figures["facade_concurrent"] = concurrent / (time.perf_counter() - t0)
        # Façade, batches.
        subs = take(count)
        t0 = time.perf_counter()
        for start in range(0, count, BATCH):
            answer = service.apply_operations(ADMIN, {"operations": [
                {"subscription_id": s, **change(s, start + n)} for n, s in enumerate(subs[start : start + BATCH])
            ]})  # fmt: skip
            assert answer["refused"] == 0, answer["results"][0]
        figures["batch_rate"] = count / (time.perf_counter() - t0)
        # HTTP, 32 concurrent clients, on tables with statistics, as autovacuum gives a database
        # this size within its first minute (the phases before took less).
        postgres = PostgresLoad.of(engine)
        if postgres:
            postgres.analyze()
        # HTTP, 32 concurrent clients.
        workers = int(flags.partition("workers=")[2] or 1)
        warm = concurrent // 4
        if workers == 1:
            figures.update(concurrent_clients(server, take(warm), take(concurrent), change, postgres))
        else:
            with ServeCommand(url, work, workers) as processes:
                figures.update(concurrent_clients(processes, take(warm), take(concurrent), change, postgres))
    figures["load"] = os.getloadavg()[0]
    if "e2e" in flags:
        figures["e2e"], figures["calls_per_sent"] = end_to_end(
            service, autotask, url, take(count // 2), change
        )
    print(json.dumps(figures))


def mapped_subscriptions(engine: Any) -> list[str]:
    """The mapped subscriptions `populate` made, in order; their contract services get the state
    rows a mapping's first delivery leaves."""
    from sqlalchemy import insert, select

    from contractsync.adapters.db.tables import contract_service_state, subscription_mappings

    with engine.begin() as db:
        mapped = db.execute(select(subscription_mappings)).all()
        db.execute(insert(contract_service_state), [
            {"connection_id": m.connection_id, "contract_service_id": m.contract_service_id,
             "contract_id": m.contract_id, "units_unknown": False, "version": 1} for m in mapped
        ])  # fmt: skip
    return sorted((m.subscription_id for m in mapped), key=lambda s: int(s[1:]))


def service_rows(url: str) -> list[Any]:
    """The mapped contract services `populate` made."""
    from sqlalchemy import select

    from contractsync.adapters.db.session import make_engine
    from contractsync.adapters.db.tables import subscription_mappings

    engine = make_engine(url)
    with engine.connect() as db:
        rows = list(db.execute(select(subscription_mappings.c.contract_service_id)).all())
    engine.dispose()
    return rows


class Autotask:
    """What the child delivers to, and counts: `connector`, `sent()`, `calls()`."""

    def __init__(self, connector: Any, sent: Callable[[], int], calls: Callable[[], int]) -> None:
        self.connector, self.sent, self.calls = connector, sent, calls


def autotask_for(work: Path, contract_services: list[int]) -> Autotask:
    """Today: the Autotask sandbox in-process, over loopback HTTP, through the real connector. An
    old baseline tree still has its port-level fake (tests/fakes/fake_autotask.py, since removed)."""
    old_fake = (
        Path(os.environ.get(BASELINE_TREE_ENV, "/nonexistent")) / "tests" / "fakes" / "fake_autotask.py"
    )
    if old_fake.exists():
        import importlib.util

        # By its file: today's `tests` package is imported already (bench_sweep's temp_database).
        spec = importlib.util.spec_from_file_location("baseline_fake_autotask", old_fake)
        assert spec is not None and spec.loader is not None
        module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fake = module.FakeAutotask(work / "autotask.db")
        return Autotask(fake, lambda: len(fake.adjustments()), lambda: sum(fake.calls().values()))
    from tests.sandbox_autotask import SandboxAutotask

    sandbox = SandboxAutotask(validate=False).start()  # runs until the child exits
    sandbox.contract(1, date(2024, 1, 1), date(2027, 12, 31))  # as bench_sweep.populate has it
    sandbox.contract_services(dict.fromkeys(contract_services, 1))
    return Autotask(sandbox.connector, lambda: len(sandbox.adjustments()), sandbox.total_requests)


class ApiServer:
    def __init__(self, url: str, work: Path) -> None:
        self.url, self.work = url, work
        self.port = 0

    def group_commit(self) -> tuple[int, int, int | None]:
        """(transactions, operations, SQL statements) of the server's group commit so far."""
        import httpx

        counts = httpx.get(f"http://127.0.0.1:{self.port}/bench/group-commit", timeout=10).json()
        return int(counts["groups"]), int(counts["operations"]), int(counts["statements"]) - 1

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (all its threads, user and system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> ApiServer:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        log = (self.work / "serve.log").open("w")
        script = ROOT / "benchmarks" / "serve_api.py"
        self.proc = subprocess.Popen([sys.executable, str(script), self.url, str(self.work), str(port), TOKEN],
                                     stdout=log, stderr=log, cwd=ROOT)  # fmt: skip
        import httpx

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                self.port = port
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the API did not start")

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class ServeCommand(ApiServer):
    """`contractsync serve --workers N` itself, on the same database: its group commits from
    `/metrics` (every process's), its CPU from every process of its group; SQL statements are
    not counted (None)."""

    def __init__(self, url: str, work: Path, workers: int) -> None:
        super().__init__(url, work / "serve-workers")
        self.workers = workers

    def group_commit(self) -> tuple[int, int, int | None]:
        import httpx

        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                         timeout=10).text  # fmt: skip
        value = {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("contractsync_group_commit_operations_")
        }
        return (
            int(value["contractsync_group_commit_operations_count"]),
            int(value["contractsync_group_commit_operations_sum"]),
            None,
        )

    def cpu_seconds(self) -> float:
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.proc.pid:  # the process group: `serve` and its processes
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> ServeCommand:
        import socket

        import httpx

        self.work.mkdir(parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        env = {**os.environ, "CONTRACTSYNC_DATABASE_URL": self.url, "CONTRACTSYNC_DATA_DIR": str(self.work),
               "CONTRACTSYNC_ADMIN_TOKEN": TOKEN}  # fmt: skip
        log = (self.work / "serve.log").open("w")
        command = [
            sys.executable,
            "-m",
            "contractsync",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(self.workers),
        ]
        self.proc = subprocess.Popen(
            command, stdout=log, stderr=log, cwd=ROOT, env=env, start_new_session=True
        )
        deadline = time.time() + 60
        while time.time() < deadline:  # every process has started (uvicorn starts them in turn)
            if (self.work / "serve.log").read_text().count("Application startup complete") == self.workers:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                self.port = port
                return self
            time.sleep(0.1)
        raise RuntimeError("serve --workers did not start")


class Connection:
    """A keep-alive HTTP/1.1 connection that sends JSON POSTs and reads the answers: a client
    that costs next to nothing, so that on a small machine the figures are the server's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        content = json.dumps(body).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n")  # fmt: skip
        self.writer.write(head.encode() + content)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(headers.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in headers.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def one_at_a_time(
    service: Any, server: ApiServer, facade_subs: list[str], http_subs: list[str],
    change: Callable[[str, int], dict[str, Any]],
) -> dict[str, Any]:  # fmt: skip
    """One operation at a time, through the façade and through HTTP in turn (IN_TURN each):
    latencies, the façade's CPU per operation (its thread's) and the server's (its process's,
    which is idle while the façade works)."""
    from contractsync.service.actor import ADMIN

    async def run() -> dict[str, Any]:
        connection = await Connection.open(server.port)
        await connection.post(f"/v1/subscriptions/{http_subs[0]}/operations", {"type": "nonsense"})  # warm
        facade_times, http_times, facade_cpu = [], [], 0.0
        server_cpu = server.cpu_seconds()
        for start in range(0, len(facade_subs), IN_TURN):
            for n, sid in enumerate(facade_subs[start : start + IN_TURN], start):
                cpu, t0 = time.thread_time(), time.perf_counter()
                service.apply_operation(ADMIN, sid, change(sid, n))
                facade_times.append(time.perf_counter() - t0)
                facade_cpu += time.thread_time() - cpu
            for n, sid in enumerate(http_subs[start : start + IN_TURN], start):
                t0 = time.perf_counter()
                status, answer = await connection.post(f"/v1/subscriptions/{sid}/operations", change(sid, n))
                http_times.append(time.perf_counter() - t0)
                assert status == 200, answer
        connection.close()
        return {
            "facade": latency(facade_times),
            "facade_cpu": 1000 * facade_cpu / len(facade_subs),
            "http": latency(http_times),
            "http_server_cpu": 1000 * (server.cpu_seconds() - server_cpu) / len(http_subs),
        }

    return asyncio.run(run())


class PostgresLoad:
    """What PostgreSQL spends on a phase: the rows its scans read in the bench's database (a
    figure no machine's speed changes: a scan that grows with a table shows here first) and its
    processes' CPU (when they run on this machine)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    @classmethod
    def of(cls, engine: Any) -> PostgresLoad | None:
        return cls(engine) if engine.dialect.name == "postgresql" else None

    def analyze(self) -> None:
        """ANALYZE: without statistics the planner takes an outbox full of pending rows (nothing
        is delivered here) for a few, and reads them all on every group through the index on
        status — a plan no database autovacuum has analyzed would choose."""
        from sqlalchemy import text

        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.execute(text("ANALYZE"))

    def rows_read(self) -> int:
        """Rows read by scans so far (`tup_returned + tup_fetched`), once every backend has
        reported its counts (they report at most once a second, an idle one within 10 s)."""
        from sqlalchemy import text

        query = text(
            "SELECT tup_returned + tup_fetched FROM pg_stat_database WHERE datname = current_database()"
        )
        last, deadline = -1, time.monotonic() + 12
        while time.monotonic() < deadline:
            with self.engine.connect() as db:
                db.execute(text("SELECT pg_stat_clear_snapshot()"))
                now = int(db.execute(query).scalar_one())
            if now == last:
                return now
            last = now
            time.sleep(1.1)
        return last

    @staticmethod
    def cpu_seconds() -> float | None:
        """CPU time of this machine's `postgres` processes so far (None: none can be read)."""
        total, found = 0, False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                head, fields = stat.read_text().rsplit(")", 1)
            except OSError:
                continue
            if head.endswith("(postgres"):
                found = True
                utime, stime = fields.split()[11:13]
                total += int(utime) + int(stime)
        return total / os.sysconf("SC_CLK_TCK") if found else None


def concurrent_clients(
    server: ApiServer, warm: list[str], subs: list[str], change: Callable[[str, int], dict[str, Any]],
    postgres: PostgresLoad | None = None,
) -> dict[str, Any]:  # fmt: skip
    """CLIENTS keep-alive connections sending operations one after another: operations/s, the
    server's CPU per operation, PostgreSQL's rows read and CPU per operation, and this client's
    own CPU share (they all share the machine's cores). The operations on `warm` go first, not
    measured: a server's processes start cold (no statement prepared, nothing cached), and a
    measurement of 2 s would count that start."""

    async def run(subs: list[str]) -> float:
        connections = [await Connection.open(server.port) for _ in range(CLIENTS)]
        queue = list(enumerate(subs))

        async def one_client(connection: Connection) -> None:
            while queue:
                n, sid = queue.pop()
                status, answer = await connection.post(f"/v1/subscriptions/{sid}/operations", change(sid, n))
                assert status == 200, answer

        t0 = time.perf_counter()
        await asyncio.gather(*(one_client(c) for c in connections))
        rate = len(subs) / (time.perf_counter() - t0)
        for connection in connections:
            connection.close()
        return rate

    asyncio.run(run(warm))
    groups = server.group_commit()
    rows_read = postgres.rows_read() if postgres else None
    postgres_cpu = postgres.cpu_seconds() if postgres else None
    server_cpu, client_cpu, started = server.cpu_seconds(), time.process_time(), time.perf_counter()
    rate = asyncio.run(run(subs))
    server_cpu_after = server.cpu_seconds()
    after = server.group_commit()
    figures: dict[str, Any] = {}
    if postgres and postgres_cpu is not None:
        postgres_cpu_after = postgres.cpu_seconds() or postgres_cpu
        figures["http_concurrent_postgres_cpu"] = 1000 * (postgres_cpu_after - postgres_cpu) / len(subs)
    if postgres and rows_read is not None:
        figures["http_concurrent_rows_read"] = (postgres.rows_read() - rows_read) / len(subs)
    if after[2] is not None and groups[2] is not None:
        figures["http_concurrent_statements"] = (after[2] - groups[2]) / len(subs)
    return figures | {
        "group_size": (after[1] - groups[1]) / max(1, after[0] - groups[0]),
        "http_concurrent": rate,
        "http_concurrent_server_cpu": 1000 * (server_cpu_after - server_cpu) / len(subs),
        "client_cpu_share": (time.process_time() - client_cpu) / (time.perf_counter() - started),
    }


def end_to_end(
    service: Any, autotask: Any, url: str, subs: list[str], change: Callable[[str, int], dict[str, Any]]
) -> tuple[tuple[float, float], float]:
    """A worker polls while operations arrive at a steady 20 per second: accepted -> sent."""
    from sqlalchemy import select

    from contractsync.adapters.clock import SystemClock
    from contractsync.adapters.db.tables import adjustments
    from contractsync.bootstrap import build_worker
    from contractsync.service.actor import ADMIN

    try:
        from contractsync.adapters.db.wakeup import waker_for
    except ImportError:  # the baseline's source, before the worker moved behind ports
        from contractsync.delivery.wakeup import waker_for  # type: ignore[no-redef]

    worker = build_worker(service.context.sessions, lambda row: autotask.connector, SystemClock())
    worker.run_once()  # drain the earlier phases first
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, waker_for(url)), daemon=True)
    thread.start()
    since = datetime.now(UTC)
    sent_before = autotask.sent()
    calls_before = autotask.calls()
    for n, sid in enumerate(subs):
        service.apply_operation(ADMIN, sid, change(sid, n + 1))
        time.sleep(0.05)
    deadline = time.time() + 60
    with service.context.sessions() as session:
        while time.time() < deadline:
            rows = session.execute(
                select(adjustments.c.created_at, adjustments.c.sent_at, adjustments.c.status).where(
                    adjustments.c.created_at >= since
                )
            ).all()
            if rows and all(r.status in ("sent", "failed", "superseded") for r in rows):
                break
            session.rollback()
            time.sleep(0.2)
    stop.set()
    thread.join(10)
    e2e = [(r.sent_at - r.created_at).total_seconds() for r in rows if r.sent_at]
    sent = autotask.sent() - sent_before
    calls = autotask.calls() - calls_before
    return (1000 * statistics.median(e2e), 1000 * percentile(e2e, 0.99)), calls / max(sent, 1)


if __name__ == "__main__":
    main()
