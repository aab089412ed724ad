"""Engine, sessions and the unit of work.

SQLite: every transaction starts with BEGIN IMMEDIATE (writers queue on the busy timeout instead
of failing with "database is locked" when a reader upgrades), WAL, foreign keys on.
PostgreSQL: psycopg 3, READ COMMITTED; `lock_*` use SELECT … FOR UPDATE to serialise writers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db import sqlite_file
from contractsync.adapters.db.tables import contract_service_state, subscriptions

DEFAULT_DATABASE_URL = "sqlite:///./contractsync.db"


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
    return create_engine(url, pool_pre_ping=True, **kwargs)


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


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


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
            self.session.close()

    def commit(self) -> None:
        if self._commit_on_exit:
            self.session.commit()
        self.session.begin()

    def lock_subscription(self, subscription_id: str) -> None:
        """Serialise concurrent operations on one subscription until this transaction ends."""
        _lock_row(self.session, subscriptions, subscriptions.c.id == subscription_id)

    def lock_contract_service(self, connection_id: str, contract_service_id: int) -> None:
        """Serialise planners of one contract service (row must exist; see outbox.ensure_service)."""
        _lock_row(
            self.session,
            contract_service_state,
            (contract_service_state.c.connection_id == connection_id)
            & (contract_service_state.c.contract_service_id == contract_service_id),
        )


def _lock_row(session: Session, table: Table, where: Any) -> None:
    # On SQLite BEGIN IMMEDIATE already holds the database's single write lock.
    if is_postgres(session):
        session.execute(select(table.c[0]).where(where).with_for_update())


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A short transaction for code that needs only a session (commits or rolls back)."""
    with UnitOfWork(factory) as uow:
        yield uow.session
