"""The one place that wires concrete adapters into the application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.autotask.factory import ConnectorCache
from contractsync.adapters.clock import Clock, SystemClock
from contractsync.adapters.db import migrate
from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.adapters.db.tables import connections
from contractsync.adapters.secrets import SecretBox, load_or_create_key
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from contractsync.service.context import ServiceContext
from contractsync.service.facade import ContractSync
from contractsync.service.psa import PsaConnector
from contractsync.settings import Settings


def secret_box(settings: Settings) -> SecretBox:
    environ = {"CONTRACTSYNC_SECRET_KEY": settings.secret_key} if settings.secret_key else {}
    return SecretBox(load_or_create_key(settings.data_dir, environ))


def build_sessions(settings: Settings, upgrade: bool = True) -> sessionmaker[Session]:
    if upgrade:
        migrate.upgrade(settings.database_url)
    return session_factory(make_engine(settings.database_url))


def worker_connectors(
    sessions: sessionmaker[Session], cache: Callable[[Any], PsaConnector]
) -> Callable[[str], PsaConnector]:
    def build(connection_id: str) -> PsaConnector:
        with transaction(sessions) as session:
            row = session.execute(select(connections).where(connections.c.id == connection_id)).one()
        return cache(row)

    return build


def build_worker(
    sessions: sessionmaker[Session],
    connectors: Callable[[Any], PsaConnector],
    clock: Clock,
    config: WorkerConfig | None = None,
) -> Worker:
    return Worker(sessions, worker_connectors(sessions, connectors), clock, config)


def build_app_service(
    settings: Settings,
    *,
    clock: Clock | None = None,
    connector_factory: Callable[[Any], Any] | None = None,
    upgrade: bool = True,
) -> ContractSync:
    """The application service on the configured database (migrated to head unless told not to)."""
    clock = clock or SystemClock()
    sessions = build_sessions(settings, upgrade)
    secrets = secret_box(settings)
    connectors = connector_factory or ConnectorCache(secrets)
    worker = build_worker(sessions, connectors, clock)

    def deliver() -> dict[str, Any]:
        stats = worker.run_once()
        return {"services": stats.services, "steps": stats.steps, "calls": dict(stats.calls)}

    context = ServiceContext(sessions, clock, secrets, connectors)
    service = ContractSync(context, deliver)
    if settings.admin_token:
        service.create_token_value(None, settings.admin_token)
    return service


ADMIN_TOKEN_FILE = "admin-token"


def admin_token(service: ContractSync, settings: Settings) -> tuple[str, bool]:
    """The provider's admin token, and whether it was generated just now.

    CONTRACTSYNC_ADMIN_TOKEN when set (build_app_service registers it); else one generated on
    first start and kept in the data dir, so the printed token survives restarts."""
    from contractsync.web.keys import read_or_create_private_file

    if settings.admin_token:
        return settings.admin_token, False
    path = settings.data_dir / ADMIN_TOKEN_FILE
    existed = path.exists()
    token = read_or_create_private_file(path, lambda: service.create_token(None).encode()).decode().strip()
    service.create_token_value(None, token)  # idempotent; re-registers it on a fresh database
    return token, not existed


def build_web_app(service: ContractSync, settings: Settings | None = None) -> Any:
    """API and console on one FastAPI app; the console's session key is kept in the data dir."""
    from contractsync.adapters.db.metrics_collector import DatabaseCollector
    from contractsync.adapters.metrics import Metrics
    from contractsync.api.app import create_api
    from contractsync.web.keys import load_or_create_session_key
    from contractsync.web.routes import register_console

    metrics = Metrics()
    connectors = service.context.connector_for
    budget = connectors.budget_used if isinstance(connectors, ConnectorCache) else dict
    metrics.registry.register(DatabaseCollector(service.context.sessions, budget))
    app = create_api(service, metrics=metrics)
    register_console(app, service, session_key=load_or_create_session_key((settings or Settings()).data_dir))
    return app


def worker_connector_factory(sessions: sessionmaker[Session]) -> Callable[[str], PsaConnector]:
    """For `contractsync worker`: Autotask connectors for the configured secret key."""
    return worker_connectors(sessions, ConnectorCache(secret_box(Settings())))


def scheduled_sweep(sessions: sessionmaker[Session]) -> Callable[[str, Any], object]:
    """For the worker's daily scheduler: the sweep of one connection for one date."""
    settings = Settings()
    secrets = secret_box(settings)
    context = ServiceContext(sessions, SystemClock(), secrets, ConnectorCache(secrets))
    service = ContractSync(context)

    def sweep(connection_id: str, day: Any) -> object:
        from contractsync.service.actor import ADMIN

        return service.sweep(ADMIN, {"date": day.isoformat(), "connection_id": connection_id})

    return sweep


def reconcile_tick(service: ContractSync, clock: Clock) -> Callable[[], object]:
    """The worker's scheduled reconciliation of every due connection (stored runs, X5 drift alert)."""
    from contractsync.delivery.reconcile_schedule import ReconcileScheduler
    from contractsync.service.actor import ADMIN
    from contractsync.service.reconcile_runs import due_connections

    def reconcile(connection_id: str) -> object:
        return service.reconciliation(ADMIN, connection_id, trigger="scheduled")

    return ReconcileScheduler(clock, lambda now: due_connections(service.context, now), reconcile).tick


def scheduled_reconciliation(sessions: sessionmaker[Session]) -> Callable[[], object]:
    """For `contractsync worker`: reconcile each connection on its schedule (daily by default)."""
    settings = Settings()
    secrets = secret_box(settings)
    clock = SystemClock()
    service = ContractSync(ServiceContext(sessions, clock, secrets, ConnectorCache(secrets)))
    return reconcile_tick(service, clock)
