"""`enqueue` wakes waiting workers: through NOTIFY on PostgreSQL, through `PRAGMA data_version` on SQLite."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.session import is_postgres, transaction
from contractsync.adapters.db.wakeup import (
    PollingWaker,
    PostgresNotifyWaker,
    SqliteChangeWaker,
    waker_for,
)
from tests.fakes.outbox_data import Row, enqueue_operation


def test_enqueue_notifies_listeners_on_commit(
    database_url: str, factory: sessionmaker[Session], clock: ManualClock
) -> None:
    with transaction(factory) as session:
        if not is_postgres(session):
            pytest.skip("LISTEN/NOTIFY is PostgreSQL only; SQLite workers poll")
    waker = PostgresNotifyWaker(database_url)
    try:
        with transaction(factory) as session:
            enqueue_operation(session, [Row(1, date(2025, 3, 3), 5)], clock.now())
        waker.wait(60)
        assert waker.notifications == 1
    finally:
        waker.close()


def test_polling_waker_sleeps_through_the_injected_sleeper(clock: ManualClock) -> None:
    before = clock.now()
    PollingWaker(clock).wait(0.2)
    assert (clock.now() - before).total_seconds() == pytest.approx(0.2)


def test_a_commit_on_sqlite_wakes_the_waiting_worker(
    database_url: str, factory: sessionmaker[Session], clock: ManualClock
) -> None:
    with transaction(factory) as session:
        if is_postgres(session):
            pytest.skip("SQLite only; PostgreSQL workers LISTEN")
    waker = waker_for(database_url)
    assert isinstance(waker, SqliteChangeWaker)
    try:
        waker.wait(0.05)  # nothing committed: waits the timeout out
        assert waker.changes == 0
        with transaction(factory) as session:
            enqueue_operation(session, [Row(1, date(2025, 3, 3), 5)], clock.now())
        waker.wait(60)  # returns at the next look, long before the minute
        assert waker.changes == 1
    finally:
        waker.close()
