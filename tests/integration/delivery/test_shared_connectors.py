"""One worker process keeps one connector per connection: deliveries, the daily sweep, scheduled
reconciliation and Partner Center polls share it (and with it Autotask's 3-in-flight limit)."""

from __future__ import annotations

from cryptography.fernet import Fernet

from contractsync.bootstrap import build_worker_process
from contractsync.delivery.config import WorkerConfig
from contractsync.settings import Settings


def test_the_worker_process_has_one_connector_cache(database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key=Fernet.generate_key().decode())
    process = build_worker_process(settings, WorkerConfig(concurrency=1))
    try:
        # The façade behind sweeps, reconciliation and polls reads through the worker's own cache.
        assert process.service.context.connector_for is process.connectors
        assert getattr(process.connectors, "fresh", None) is not None  # a ConnectorCache, not a copy
    finally:
        process.close()
