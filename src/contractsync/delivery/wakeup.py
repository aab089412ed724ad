"""Waiting for work: a plain poll, or PostgreSQL LISTEN/NOTIFY for low latency."""

from __future__ import annotations

import logging
from typing import Protocol

import psycopg
from sqlalchemy.engine import make_url

from contractsync.adapters.clock import Sleeper
from contractsync.adapters.db.outbox import NOTIFY_CHANNEL
from contractsync.adapters.db.session import normalise_url

log = logging.getLogger(__name__)


class Waker(Protocol):
    def wait(self, timeout: float) -> None:
        """Return after `timeout` seconds, or earlier when new work may be there."""
        ...


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
