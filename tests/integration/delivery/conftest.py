"""Fixtures for worker tests: a manual clock, Autotask (the sandbox, in-process) and a worker
wired to both."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.outbox_rows import OPEN_STATUSES
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import adjustments
from contractsync.bootstrap import delivery_store
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from tests.fakes.outbox_data import contract_of, seed_connection
from tests.sandbox_autotask import SandboxAutotask

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
#: The contract services the worker tests use (Row.service), each on contract_of(service).
SERVICES = range(1, 11)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def autotask() -> Iterator[SandboxAutotask]:
    with SandboxAutotask() as sandbox:
        sandbox.contract_services({s: contract_of(s) for s in SERVICES})
        yield sandbox
        assert sandbox.violations() == [], "requests or answers that do not match the vendor document"


@pytest.fixture
def factory(session_factory: sessionmaker[Session], clock: ManualClock) -> sessionmaker[Session]:
    with transaction(session_factory) as session:
        seed_connection(session, clock.now())
    return session_factory


@pytest.fixture
def worker(factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock) -> Worker:
    config = WorkerConfig(lease_seconds=60, backoff_base=1.0, backoff_cap=20.0, owner="test-worker")
    connector = autotask.connector
    return Worker(delivery_store(factory), lambda _connection: connector, clock, config, rng=random.Random(3))


def open_rows(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return int(
            session.execute(select(func.count()).where(adjustments.c.status.in_(OPEN_STATUSES))).scalar_one()
        )


@pytest.fixture
def drain(worker: Worker, factory: sessionmaker[Session], clock: ManualClock) -> Callable[[], int]:
    """Run the worker, moving the clock past backoffs, until nothing is open; answer the rounds."""

    def run() -> int:
        for rounds in range(1, 200):
            worker.run_once()
            if open_rows(factory) == 0:
                return rounds
            clock.advance(30)
        raise AssertionError("outbox did not drain")

    return run
