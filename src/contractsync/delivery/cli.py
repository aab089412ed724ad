"""`contractsync worker` and `contractsync db …` (the lead wires `register` into cli.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import typer
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import SystemClock
from contractsync.adapters.db import migrate
from contractsync.adapters.db.session import DEFAULT_DATABASE_URL, make_engine, session_factory
from contractsync.adapters.db.sweep_runs import SqlSweepRuns
from contractsync.adapters.db.wakeup import waker_for
from contractsync.adapters.logging import configure_logging
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.scheduler import DailySweepScheduler, Sweep
from contractsync.delivery.worker import ConnectorFactory, Worker

DATABASE_URL_ENV = "CONTRACTSYNC_DATABASE_URL"

SweepFactory = Callable[[sessionmaker[Session]], Sweep]
ConnectorsFactory = Callable[[sessionmaker[Session]], ConnectorFactory]
#: More work the worker runs between deliveries (Partner Center polls, scheduled reconciliation),
#: built per process.
TickFactory = Callable[[sessionmaker[Session]], Callable[[], Any]]


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def register(
    app: typer.Typer,
    sweep_factory: SweepFactory | None = None,
    *,
    connectors: ConnectorsFactory,
    ticks: tuple[TickFactory, ...] = (),
) -> None:
    """Add `worker` and `db upgrade|downgrade`. Pass the real sweep when it exists."""
    db = typer.Typer(no_args_is_help=True, help="Database migrations.")

    @db.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
        """Run Alembic migrations up to REVISION (default: head)."""
        migrate.upgrade(database_url(), revision)
        typer.echo(f"database at {revision}")

    @db.command("downgrade")
    def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
        """Migrate down to REVISION."""
        migrate.downgrade(database_url(), revision)
        typer.echo(f"database at {revision}")

    app.add_typer(db, name="db")

    @app.command("worker")
    def worker(
        once: bool = typer.Option(False, "--once", help="Deliver what is due now, then exit."),
        concurrency: int = typer.Option(3, "--concurrency", min=1, help="Contract services in parallel."),
        lease_seconds: float = typer.Option(
            30.0,
            "--lease-seconds",
            min=1.0,
            envvar="CONTRACTSYNC_LEASE_SECONDS",
            help="A dead worker's services are taken over this long after its last heartbeat.",
        ),
        heartbeat_seconds: float = typer.Option(
            10.0,
            "--heartbeat-seconds",
            min=0.1,
            envvar="CONTRACTSYNC_HEARTBEAT_SECONDS",
            help="How often a live worker renews its leases (a third of the lease or less).",
        ),
    ) -> None:
        """Deliver pending adjustments to the PSA (PostgreSQL: run as many as you like; SQLite: one).

        SIGTERM/SIGINT: stop claiming, let calls in flight finish for up to 5 s, release the leases
        (a call cut short is verified by the next worker before it sends), exit 0."""
        if heartbeat_seconds * 2 > lease_seconds:
            raise typer.BadParameter(
                "must be at most half of --lease-seconds", param_hint="--heartbeat-seconds"
            )
        run_worker(
            database_url(),
            once=once,
            concurrency=concurrency,
            sweep_factory=sweep_factory,
            connectors=connectors,
            ticks=ticks,
            config=WorkerConfig(
                concurrency=concurrency, lease_seconds=lease_seconds, heartbeat_seconds=heartbeat_seconds
            ),
        )


def run_worker(
    url: str,
    *,
    once: bool,
    concurrency: int,
    sweep_factory: SweepFactory | None,
    connectors: ConnectorsFactory,
    config: WorkerConfig | None = None,
    ticks: tuple[TickFactory, ...] = (),
) -> None:
    configure_logging(json=True)  # JSON lines on stderr, bound to operation ids
    engine = make_engine(url)
    factory = session_factory(engine)
    clock = SystemClock()
    config = config or WorkerConfig(concurrency=concurrency)
    every: list[Callable[[], Any]] = [make(factory) for make in ticks]
    if sweep_factory is not None:
        every.append(DailySweepScheduler(SqlSweepRuns(factory), clock, sweep_factory(factory)).tick)

    def tick() -> None:
        for each in every:
            each()

    from contractsync.bootstrap import delivery_store

    worker = Worker(delivery_store(factory), connectors(factory), clock, config, tick=tick)
    try:
        if once:
            stats = worker.run_once()
            typer.echo(f"delivered: {stats.steps} steps over {stats.services} contract services")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker.run_forever(stop, waker_for(url))
    finally:
        engine.dispose()
    if worker.abandoned:
        # Threads are still waiting on calls that were given up (and recorded as such): do not
        # wait for them at interpreter exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
