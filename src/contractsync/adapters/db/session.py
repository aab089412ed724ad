"""Engine, sessions and the unit of work.

SQLite: every transaction starts with BEGIN IMMEDIATE (writers queue on the busy timeout instead
of failing with "database is locked" when a reader upgrades), WAL, foreign keys on.
PostgreSQL: psycopg 3, READ COMMITTED; `lock_*` use SELECT … FOR UPDATE to serialise writers.

Deadlocks and serialization failures (SQLSTATE 40P01, 40001; SQLite's "database is locked" once
its busy timeout ran out) are normal under concurrency and never reach a caller: every write
transaction runs inside `retrying`, which rolls back, waits a jittered, growing moment and runs
the whole transaction again, a bounded number of times (`RETRY`). Use `run_in_transaction` for a
transaction body, or wrap a whole use case that opens its own transactions in `retrying`.
"""

from __future__ import annotations

import logging
import random
import select as sockets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Engine, Table, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db import sqlite_file
from contractsync.adapters.db.tables import subscriptions
from contractsync.ports.unit_of_work import RetriesExhausted

log = logging.getLogger(__name__)
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        sqlite_file.create_private(make_url(url))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _refuse_closed_connection)
    event.listen(engine, "do_execute", _run_unprepared)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed is replaced before use (PostgreSQL), as
    SQLAlchemy's `pool_pre_ping` would, without its round trip (an empty query before every
    transaction). An idle connection has nothing to read; when the server ends one (a restart,
    `pg_terminate_backend`, `idle_session_timeout`) it sends a last error message and closes the
    socket, which then reads as ready. Then, as for a failed ping, every connection pooled before
    now is dropped and this one is opened anew. (A server that vanished without closing anything
    is found by the first statement, as it would be by the ping.)"""
    if dbapi_connection.closed or _readable(dbapi_connection.pgconn):
        raise InvalidatePoolError("the database closed this pooled connection")


def _readable(pgconn: Any) -> bool:
    """The connection's socket has something to read (or is gone: libpq has none to give)."""
    try:
        fd = pgconn.socket
    except psycopg.OperationalError:  # "the connection is lost"
        return True
    poll = sockets.poll()
    poll.register(fd, sockets.POLLIN | sockets.POLLERR | sockets.POLLHUP)
    return bool(poll.poll(0))


#: An execution option: run the statement without preparing it on the server (PostgreSQL).
#: psycopg prepares a statement on its fifth run, and PostgreSQL may then keep one generic plan
#: for it, made with the table sizes of that moment; for a read whose best plan depends on how
#: many rows its tables hold now (the group's read of outbox rows and ledger, which grow from
#: empty), a plan made while they were small reads every row once they are not. Unprepared,
#: each run is planned for its own values and today's tables (a fraction of a millisecond).
UNPREPARED = "contractsync_unprepared"


def _run_unprepared(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    if not context.execution_options.get(UNPREPARED):
        return None
    cursor.execute(statement, parameters, prepare=False)
    return True


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            # Survives any process crash; a power cut may lose the last commits, which delivery
            # tolerates: a re-sent adjustment on the same date is rejected by Autotask as a
            # duplicate, and the worker then verifies instead of failing (see delivery/deliver.py).
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(bind: Engine | Connection | Session) -> bool:
    engine_or_connection = bind.get_bind() if isinstance(bind, Session) else bind
    return engine_or_connection.dialect.name == "postgresql"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """One transaction: `with UnitOfWork(factory) as uow:` commits on success, rolls back on error.

    Call `uow.commit()` explicitly to commit early; leaving the block without an exception
    commits whatever is left. A preview passes `commit=False`: everything is rolled back.
    """

    def __init__(self, factory: sessionmaker[Session], *, commit: bool = True) -> None:
        self._factory = factory
        self._commit_on_exit = commit
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self.session.begin()
        _open.depth = _depth() + 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self._commit_on_exit:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            _open.depth = _depth() - 1
            self.session.close()

    def commit(self) -> None:
        if self._commit_on_exit:
            self.session.commit()
        self.session.begin()

    def lock_subscription(self, subscription_id: str) -> None:
        """Serialise concurrent operations on one subscription until this transaction ends."""
        _lock_row(self.session, subscriptions, subscriptions.c.id == subscription_id)


def _lock_row(session: Session, table: Table, where: Any) -> None:
    # On SQLite BEGIN IMMEDIATE already holds the database's single write lock.
    if is_postgres(session):
        session.execute(select(table.c[0]).where(where).with_for_update())


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A short transaction for code that needs only a session (commits or rolls back)."""
    with UnitOfWork(factory) as uow:
        yield uow.session


# --- retrying transactions -----------------------------------------------------------------------

#: SQLSTATEs a transaction may simply run again after: deadlock detected, serialization failure.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
_SQLITE_TRANSIENT = ("database is locked", "database table is locked")


@dataclass(frozen=True)
class RetryPolicy:
    #: How many times a transaction runs at most (the first run included).
    attempts: int = 10
    #: The wait before retry n is uniform in [0, min(cap, base · 2ⁿ)] seconds (full jitter).
    base: float = 0.005
    cap: float = 0.5


RETRY = RetryPolicy()


class TransactionRetriesExhausted(RetriesExhausted):
    """A transaction lost `RetryPolicy.attempts` races in a row; the last database error is `__cause__`."""


def is_transient(error: BaseException) -> bool:
    """A deadlock, a serialization failure or SQLite's busy lock: the transaction can run again."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return any(marker in message for marker in _SQLITE_TRANSIENT)


class _Counters:
    """Retries so far by SQLSTATE (read by /metrics)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


retries = _Counters()
_open = threading.local()
_jitter = random.Random()


def _depth() -> int:
    return int(getattr(_open, "depth", 0))


def _reason(error: DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", None) or "sqlite_busy")


def retrying(
    run: Callable[[], T], policy: RetryPolicy = RETRY, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run `run` (which opens and ends its own transactions); a transient failure rolls it back
    and runs it again after a jittered wait, at most `policy.attempts` times in all.

    Inside a transaction that is already open on this thread the failure is passed up: only the
    code that opened the transaction can run it again. Nested `retrying` calls retry innermost;
    when they give up they raise `TransactionRetriesExhausted`, which outer ones pass on.
    """
    if _depth() > 0:
        return run()
    for attempt in range(policy.attempts):
        try:
            return run()
        except DBAPIError as error:
            if not is_transient(error):
                raise
            reason = _reason(error)
            retries.add(reason)
            if attempt == policy.attempts - 1:
                raise TransactionRetriesExhausted(
                    f"the database stayed busy ({reason}) through {policy.attempts} attempts"
                ) from error
            log.info("transaction retried after %s (attempt %d)", reason, attempt + 1)
            sleep(_jitter.uniform(0, min(policy.cap, policy.base * 2**attempt)))
    raise AssertionError("unreachable")


def run_in_transaction(factory: sessionmaker[Session], body: Callable[[Session], T]) -> T:
    """`body(session)` in one transaction that commits, run again on a transient failure."""

    def attempt() -> T:
        with transaction(factory) as session:
            return body(session)

    return retrying(attempt)
