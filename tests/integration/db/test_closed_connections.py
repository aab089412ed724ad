"""A pooled PostgreSQL connection the server has closed is replaced before use, and checking
that costs no round trip."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import Engine, text

from contractsync.adapters.db import session
from contractsync.adapters.db.session import make_engine


@pytest.fixture
def postgres(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("connections closed by the server are PostgreSQL's")
    return database_url


def backend_pid(engine: Engine) -> int:
    with engine.begin() as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def backend(observer: Engine, pid: int) -> str | None:
    """The last statement the backend `pid` ran, None once it has gone."""
    with observer.connect() as db:
        query = text("SELECT query FROM pg_stat_activity WHERE pid = :pid")
        return db.execute(query, {"pid": pid}).scalar_one_or_none()


def test_a_connection_the_server_ended_is_replaced_before_use(postgres: str) -> None:
    engine, observer = make_engine(postgres, pool_size=1), make_engine(postgres)
    try:
        ended = backend_pid(engine)  # now idle in the pool
        with observer.connect() as db:
            assert db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended}).scalar_one()
        deadline = time.monotonic() + 10
        while backend(observer, ended) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        # The next transaction runs, on a new connection, with no error for its caller
        # (without the check: "terminating connection due to administrator command").
        replacement = backend_pid(engine)
        assert replacement != ended
        assert backend_pid(engine) == replacement  # and that one is kept
    finally:
        engine.dispose()
        observer.dispose()


def test_taking_a_pooled_connection_sends_nothing_to_the_server(postgres: str) -> None:
    """No ping (SQLAlchemy's `pool_pre_ping` sends one before every transaction): the last
    statement the backend ran is still the previous transaction's."""
    engine, observer = make_engine(postgres, pool_size=1), make_engine(postgres)
    try:
        pid = backend_pid(engine)
        with engine.connect():  # taken from the pool, and given back
            assert backend(observer, pid) == "COMMIT"
    finally:
        engine.dispose()
        observer.dispose()


def test_a_connection_without_a_socket_counts_as_closed() -> None:
    """libpq has no socket for a connection it lost (psycopg raises): replaced, not an error."""

    class Lost:
        @property
        def socket(self) -> int:
            raise psycopg.OperationalError("the connection is lost")

    assert session._readable(Lost())
