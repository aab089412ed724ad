"""Waiting for work with low latency: PostgreSQL LISTEN/NOTIFY, or on SQLite a cheap look at
`PRAGMA data_version` (it moves when another connection commits); a plain poll for tests."""

from __future__ import annotations

import logging
import sqlite3
import time

import psycopg
from sqlalchemy.engine import make_url

from contractsync.adapters.clock import Sleeper, SystemSleeper
from contractsync.adapters.db.outbox import NOTIFY_CHANNEL
from contractsync.adapters.db.session import normalise_url
from contractsync.ports.delivery import Waker

log = logging.getLogger(__name__)


class PollingWaker:
    def __init__(self, sleeper: Sleeper) -> None:
        self._sleeper = sleeper

    def wait(self, timeout: float) -> None:
        self._sleeper.sleep(timeout)


class PostgresNotifyWaker:
    """LISTEN on the outbox channel; `enqueue` NOTIFYs when its transaction commits."""

    def __init__(self, sqlalchemy_url: str) -> None:
        dsn = (
            make_url(normalise_url(sqlalchemy_url))
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._conn = psycopg.connect(dsn, autocommit=True)
        self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self.notifications = 0

    def wait(self, timeout: float) -> None:
        # The poll interval stays the upper bound: a missed notification only costs latency.
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            self.notifications += 1

    def close(self) -> None:
        self._conn.close()


class SqliteChangeWaker:
    """Returns as soon as another connection (the API, a CLI command) commits to the database.

    `PRAGMA data_version` reads a counter in the shared WAL index: no query planning, no table
    read, so looking every few milliseconds costs next to nothing, while the worker's claim query
    runs only when something changed or the poll interval ran out.
    """

    def __init__(self, path: str, check_every: float = 0.005) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._check_every = check_every
        self._seen = self._version()
        self.changes = 0

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(self._check_every, left))
            version = self._version()
            if version != self._seen:
                self._seen = version
                self.changes += 1
                return

    def close(self) -> None:
        self._conn.close()


def waker_for(sqlalchemy_url: str) -> Waker:
    """The low-latency waker for the database behind the URL (in-memory SQLite: a plain poll)."""
    url = make_url(normalise_url(sqlalchemy_url))
    if url.get_backend_name() == "postgresql":
        return PostgresNotifyWaker(sqlalchemy_url)
    if url.database and url.database != ":memory:":
        return SqliteChangeWaker(url.database)
    return PollingWaker(SystemSleeper())
