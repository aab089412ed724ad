"""`contractsync worker [--once]`: delivers pending adjustments and runs the scheduled work, wired
by `bootstrap.build_worker_process` from the same `Settings` (and `.env`) as `serve`."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from contractsync.cli.common import require_existing_database, settings

if TYPE_CHECKING:
    from contractsync.bootstrap import WorkerProcess
    from contractsync.delivery.config import WorkerConfig
    from contractsync.settings import Settings

#: How the command gets its worker (tests pass one with a fake PSA connector).
WorkerBuilder = Callable[["Settings", "WorkerConfig"], "WorkerProcess"]


def register(app: typer.Typer, build_worker: WorkerBuilder | None = None) -> None:
    @app.command("worker")
    def worker(
        once: bool = typer.Option(False, "--once", help="Deliver what is due now, then exit."),
        concurrency: int = typer.Option(3, "--concurrency", min=1, help="Contract services in parallel."),
        lease_seconds: float | None = typer.Option(
            None,
            "--lease-seconds",
            min=1.0,
            show_default="30, or CONTRACTSYNC_LEASE_SECONDS",
            help="A dead worker's services are taken over this long after its last heartbeat.",
        ),
        heartbeat_seconds: float | None = typer.Option(
            None,
            "--heartbeat-seconds",
            min=0.1,
            show_default="10, or CONTRACTSYNC_HEARTBEAT_SECONDS",
            help="How often a live worker renews its leases (a third of the lease or less).",
        ),
    ) -> None:
        """Deliver pending adjustments to the PSA (PostgreSQL: run as many as you like; SQLite: one).

        SIGTERM/SIGINT: stop claiming, let calls in flight finish for up to 5 s, release the leases
        (a call cut short is verified by the next worker before it sends), exit 0."""
        from contractsync.adapters.logging import configure_logging
        from contractsync.bootstrap import build_worker_process
        from contractsync.delivery.config import WorkerConfig

        configured = settings()
        lease = configured.lease_seconds if lease_seconds is None else lease_seconds
        heartbeat = configured.heartbeat_seconds if heartbeat_seconds is None else heartbeat_seconds
        if heartbeat * 2 > lease:
            raise typer.BadParameter(
                "must be at most half of --lease-seconds", param_hint="--heartbeat-seconds"
            )
        require_existing_database(configured)
        configure_logging(json=True)  # JSON lines on stderr, bound to operation ids
        config = WorkerConfig(concurrency=concurrency, lease_seconds=lease, heartbeat_seconds=heartbeat)
        run(
            (build_worker or build_worker_process)(configured, config),
            once=once,
        )


def run(process: WorkerProcess, *, once: bool) -> None:
    """`--once`: deliver what is due and exit; else until SIGTERM/SIGINT."""
    worker = process.worker
    try:
        if once:
            stats = worker.run_once()
            typer.echo(f"delivered: {stats.steps} steps over {stats.services} contract services")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker.run_forever(stop, process.waker)
    finally:
        process.close()
    if worker.abandoned:
        # Threads are still waiting on calls that were given up (and recorded as such): do not
        # wait for them at interpreter exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
