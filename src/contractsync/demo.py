"""`contractsync demo`: the embedded default in one process.

SQLite (migrated to head), the Autotask sandbox with its demo data persisted next to the
database, the delivery worker in a background thread, sample data on first start, and the API
plus web console served by uvicorn. Ctrl-C stops everything.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from sqlalchemy.engine import make_url

from contractsync.adapters.autotask.factory import ConnectorCache
from contractsync.adapters.clock import ManualClock, SystemClock
from contractsync.adapters.db.wakeup import waker_for
from contractsync.adapters.logging import configure_logging
from contractsync.bootstrap import (
    admin_token,
    build_app_service,
    build_sessions,
    build_web_app,
    build_worker,
    connectors_reaching,
    scheduled_work,
    service_on_clock,
    start_metrics_server,
)
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from contractsync.demo_data import DEMO_CONNECTION_ID, SandboxAccess, create_sample_data, is_empty
from contractsync.partner_center_demo import PartnerCenterDemo
from contractsync.ports.delivery import Waker
from contractsync.sandbox.seed import seed_demo
from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import SandboxConfig
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings

SANDBOX_DATA_FILE = "sandbox.json"


def sandbox_data_file(settings: Settings) -> Path:
    """Next to a SQLite database (deleting one without the other would make them disagree about
    what Autotask holds); in the data dir otherwise."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(str(url.database))
        return database.with_name(database.stem + ".sandbox.json")
    return settings.data_dir / SANDBOX_DATA_FILE


def with_sandbox_allowed(settings: Settings, sandbox: SandboxServer) -> Settings:
    """The demo's own sandbox is a host Autotask requests may go to (CONTRACTSYNC_PSA_ALLOWED_HOSTS
    plus this run's sandbox address); nothing else on this machine is."""
    hosts = ",".join(h for h in (settings.psa_allowed_hosts, sandbox.allowed_host) if h)
    return settings.model_copy(update={"psa_allowed_hosts": hosts})


@dataclass
class BackgroundWorker:
    worker: Worker
    stop: threading.Event
    thread: threading.Thread

    @classmethod
    def start(cls, worker: Worker, waker: Waker) -> BackgroundWorker:
        stop = threading.Event()
        thread = threading.Thread(
            target=worker.run_forever,
            args=(stop, waker),
            name="contractsync-worker",
            daemon=True,
        )
        thread.start()
        return cls(worker, stop, thread)

    def shutdown(self) -> None:
        self.stop.set()
        self.thread.join(timeout=15)


class DemoStack:
    """Everything `contractsync demo` runs except the HTTP server: the sandbox, the service with
    sample data, the worker thread and the app. The e2e tests serve `app` themselves."""

    def __init__(
        self, settings: Settings, *, settle_seconds: int = 5, worker_config: WorkerConfig | None = None
    ) -> None:
        self.settings = settings
        self.settle_seconds = settle_seconds
        self.worker_config = worker_config
        self.clock = SystemClock()
        self.sandbox = SandboxServer(SandboxConfig(seed="demo", data_file=sandbox_data_file(settings)))
        self._background: BackgroundWorker | None = None
        self.partner_center: PartnerCenterDemo | None = None

    def start(self) -> DemoStack:
        settings, clock, sandbox = self.settings, self.clock, self.sandbox
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        sandbox.start()
        try:
            self.partner_center = PartnerCenterDemo(settings)
            settings = self.partner_center.start_sandbox(with_sandbox_allowed(settings, sandbox))
            self.settings = settings
            # The demo connection always reaches this run's sandbox (a free port on every start).
            connectors = connectors_reaching(settings, DEMO_CONNECTION_ID, sandbox.api_url)
            self.service = build_app_service(settings, clock=clock, connector_factory=connectors)
            self.token, _ = admin_token(self.service, settings)
            if is_empty(self.service):
                seeded = seed_demo(sandbox.state.store, clock.now().replace(tzinfo=None))  # idempotent: ids
                access = SandboxAccess(
                    sandbox.base_url,
                    sandbox.username,
                    sandbox.secret,
                    sandbox.integration_code,
                    seeded["companies"],
                )
                create_sample_data(
                    self.service, access, clock.now().date(), self.settle_seconds, self._mapped_yesterday()
                )
            self.partner_center.start(self.service)
            self._background = BackgroundWorker.start(
                self._worker(connectors), waker_for(settings.database_url)
            )
            self.app = build_web_app(self.service, settings)
            self.app.state.partner_center = self.partner_center.center
        except BaseException:
            self.stop()
            raise
        return self

    def _mapped_yesterday(self) -> ContractSync:
        """The service as of this time yesterday, for mapping the sample subscriptions."""
        return service_on_clock(self.service, ManualClock(self.clock.now() - timedelta(days=1)))

    def _worker(self, connectors: ConnectorCache) -> Worker:
        """The worker thread's own engine; between deliveries the daily sweep, the scheduled
        reconciliation and the demo's Partner Center polls."""
        sessions = build_sessions(self.settings, upgrade=False)
        tick = scheduled_work(self.service, self.clock, self._partner_center_tick)
        return build_worker(
            sessions, connectors, self.clock, self.worker_config, tick=tick, service=self.service
        )

    def _partner_center_tick(self) -> None:
        if self.partner_center is not None:
            self.partner_center.tick()

    def stop(self) -> None:
        if self._background is not None:
            self._background.shutdown()
            self._background = None
        if self.partner_center is not None:
            self.partner_center.stop()
        self.sandbox.stop()

    def __enter__(self) -> DemoStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_demo(host: str, port: int, settings: Settings) -> None:
    configure_logging(json=False, level="INFO")
    for noisy in ("httpx", "alembic"):  # a request line per Autotask call drowns what matters
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with DemoStack(settings) as stack:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        pc = stack.partner_center
        assert pc is not None
        pc.register(f"http://{shown_host}:{port}")
        print(
            f"contractsync demo is running ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n"
            f"  console:       http://{shown_host}:{port}/\n"
            f"  API docs:      http://{shown_host}:{port}/docs{_docs_note(stack.settings)}\n"
            f"  admin token:   {stack.token}\n"
            f"  database:      {stack.settings.database_url}\n"
            f"  sandbox:       {stack.sandbox.base_url} (Autotask API at {stack.sandbox.api_url})\n"
            f"  Partner Center sandbox: {pc.sandbox.base_url}/sandbox/ (change seats there)\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        # uvicorn handles Ctrl-C (and SIGTERM) itself and returns; leaving the block stops the
        # worker and the sandbox.
        metrics_server = start_metrics_server(stack.app.state.metrics, stack.settings)
        try:
            uvicorn.run(stack.app, host=host, port=port, log_config=None, timeout_graceful_shutdown=3)
        finally:
            if metrics_server is not None:
                metrics_server.stop()


def _docs_note(settings: Settings) -> str:
    return {
        "on": "",
        "auth": " (after signing in to the console)",
        "off": " (off: CONTRACTSYNC_API_DOCS=off)",
    }[settings.api_docs]
