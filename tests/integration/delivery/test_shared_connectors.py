"""One worker process keeps one connector per connection: deliveries, the daily sweep, scheduled
reconciliation and Partner Center polls share it (and with it Autotask's 3-in-flight limit)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from contractsync.bootstrap import process_connector_cache


def test_the_worker_process_has_one_connector_cache_per_database(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTRACTSYNC_SECRET_KEY", Fernet.generate_key().decode())
    cache = process_connector_cache(factory)
    assert process_connector_cache(factory) is cache
    other = sessionmaker(bind=factory.kw["bind"])
    assert process_connector_cache(other) is not cache
