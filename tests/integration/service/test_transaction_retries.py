"""Deadlocks and serialization failures never reach a caller (issue 15, item 1).

The PostgreSQL tests hold a second, real connection in a transaction that takes row locks in a
chosen order while a caller's operation runs in a thread; they wait (by asking pg_stat_activity)
until the operation is blocked on that connection before taking the next lock, so the interleaving
is the same on every run.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from contractsync.adapters.db import session as db_session
from contractsync.adapters.db.session import RetryPolicy, TransactionRetriesExhausted, retrying
from contractsync.adapters.db.tables import adjustments, subscriptions
from contractsync.adapters.db.tables import connection_operations as operations
from contractsync.service.actor import ADMIN
from tests.integration.service.conftest import World, map_s1


def _dsn(world: World) -> str:
    url = world.service.context.sessions.kw["bind"].url
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _require_postgres(world: World) -> None:
    if make_url(str(world.service.context.sessions.kw["bind"].url)).get_backend_name() != "postgresql":
        pytest.skip("row locks and the deadlock detector are PostgreSQL's (SQLite serialises writers)")


class _InThread:
    """Run a caller's request in a thread; keep its answer or its error."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.answer: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.answer = call()
        except BaseException as error:  # handed to the test
            self.error = error

    def join(self) -> Any:
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the caller never got an answer"
        if self.error is not None:
            raise self.error
        return self.answer


def _wait_until_blocked_by(monitor: psycopg.Connection[Any], blocker_pid: int) -> None:
    """Until some backend of this database waits for a lock held by `blocker_pid`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = monitor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND %s = ANY(pg_blocking_pids(pid))",
            (blocker_pid,),
        ).fetchone()
        if row and row[0]:
            return
        time.sleep(0.01)
    raise AssertionError("the operation never waited for the other transaction")


@contextmanager
def _other_transaction(world: World) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """(a connection in an open transaction that never gives up waiting first, a monitor)."""
    with (
        psycopg.connect(_dsn(world)) as other,
        psycopg.connect(_dsn(world), autocommit=True) as monitor,
    ):
        # Ours waits 60 s before looking for a deadlock, the service's connections the default 1 s:
        # the service's transaction is the one PostgreSQL picks to roll back.
        other.execute("SET deadlock_timeout = '60s'")
        yield other, monitor


def _records(world: World, subscription_id: str) -> int:
    with world.service.context.sessions() as session:
        return int(
            session.execute(
                select(func.count()).where(operations.c.subscription_id == subscription_id)
            ).scalar_one()
        )


def test_a_deadlock_is_retried_and_the_caller_gets_its_answer(world: World) -> None:
    _require_postgres(world)
    map_s1(world)
    world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    records_before = _records(world, "s1")
    deadlocks_before = db_session.retries.snapshot().get("40P01", 0)
    with _other_transaction(world) as (other, monitor):
        # Like a worker renewing its lease: the contract service's state row is locked …
        other.execute(
            "UPDATE contract_service_state SET version = version + 1 "
            "WHERE connection_id = 'at-r1' AND contract_service_id = 1000"
        )
        call = _InThread(
            lambda: world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 14})
        )
        # … the operation locks subscription s1 and waits for that row; then the other transaction
        # wants s1: a deadlock, which PostgreSQL breaks by rolling the operation's transaction back.
        _wait_until_blocked_by(monitor, other.info.backend_pid)
        other.execute("SELECT id FROM subscriptions WHERE id = 's1' FOR UPDATE")
        other.commit()
        answer = call.join()
    assert db_session.retries.snapshot().get("40P01", 0) > deadlocks_before, "no deadlock happened"
    assert [record["type"] for record in answer] == ["UpdateSubscriptionQuantityOnConnection"]
    assert answer[0]["status"] in {"pending", "succeeded"}
    # Applied exactly once: one more record, the quantity the caller asked for.
    assert _records(world, "s1") == records_before + 1
    with world.service.context.sessions() as session:
        assert (
            session.execute(select(subscriptions.c.quantity).where(subscriptions.c.id == "s1")).scalar() == 14
        )


def test_a_planner_and_a_worker_take_a_services_locks_in_one_order(world: World) -> None:
    """The deadlock of issue 15: a worker renews its lease (state row), then locks the service's
    head outbox row; an operation re-plans the same service. The operation takes the state row
    before any outbox row, so the worker is never made to wait for it: no deadlock, no retry."""
    _require_postgres(world)
    map_s1(world)
    world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    with world.service.context.sessions() as session:
        head = session.execute(
            select(func.min(adjustments.c.id)).where(adjustments.c.status == "pending")
        ).scalar()
    assert head is not None
    retries_before = sum(db_session.retries.snapshot().values())
    with _other_transaction(world) as (other, monitor):
        other.execute(
            "UPDATE contract_service_state SET lease_owner = 'w', version = version + 1 "
            "WHERE connection_id = 'at-r1' AND contract_service_id = 1000"
        )
        # Same day: re-plans (supersedes) the pending row of the first change.
        call = _InThread(
            lambda: world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 15})
        )
        _wait_until_blocked_by(monitor, other.info.backend_pid)
        # The worker's next statement: lock the head row. It must not wait for the operation.
        other.execute("SET lock_timeout = '5s'")
        locked = other.execute("SELECT id FROM adjustments WHERE id = %s FOR UPDATE", (head,)).fetchone()
        assert locked == (head,)
        other.execute("UPDATE contract_service_state SET lease_owner = NULL WHERE contract_service_id = 1000")
        other.commit()
        answer = call.join()
    assert sum(db_session.retries.snapshot().values()) == retries_before
    assert answer[0]["adjustments"][0]["target_units"] == 15
    with world.service.context.sessions() as session:
        rows = dict(session.execute(select(adjustments.c.id, adjustments.c.status)).all())
    assert rows[head] == "superseded"
    assert list(rows.values()).count("pending") == 1


def _sqlite_busy() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))


def test_retrying_runs_a_transaction_again_and_gives_up_after_a_bound() -> None:
    runs: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        runs.append(1)
        if len(runs) < 3:
            raise _sqlite_busy()
        return "done"

    assert retrying(flaky, RetryPolicy(attempts=5, base=0.01, cap=0.02), sleep=waits.append) == "done"
    assert len(runs) == 3 and len(waits) == 2 and all(0 <= w <= 0.02 for w in waits)

    def always_busy() -> str:
        raise _sqlite_busy()

    with pytest.raises(TransactionRetriesExhausted):
        retrying(always_busy, RetryPolicy(attempts=4), sleep=waits.append)

    def other_error() -> str:
        runs.append(1)
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))

    runs.clear()
    with pytest.raises(OperationalError):
        retrying(other_error, sleep=waits.append)
    assert len(runs) == 1  # only deadlocks, serialization failures and busy locks are retried
