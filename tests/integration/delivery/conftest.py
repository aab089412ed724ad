"""Fixtures for worker tests: a manual clock, the fake Autotask and a worker wired to both."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.outbox_rows import OPEN_STATUSES
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import adjustments
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from tests.fakes.fake_autotask import FakeAutotask
from tests.fakes.outbox_data import seed_connection

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(tmp_path: Path) -> FakeAutotask:
    return FakeAutotask(tmp_path / "autotask.db", seed=7)


@pytest.fixture
def factory(session_factory: sessionmaker[Session], clock: ManualClock) -> sessionmaker[Session]:
    with transaction(session_factory) as session:
        seed_connection(session, clock.now())
    return session_factory


@pytest.fixture
def worker(factory: sessionmaker[Session], fake: FakeAutotask, clock: ManualClock) -> Worker:
    config = WorkerConfig(lease_seconds=60, backoff_base=1.0, backoff_cap=20.0, owner="test-worker")
    return Worker(factory, lambda _connection: fake, clock, config, rng=random.Random(3))


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
