"""Autotask's thread limit shared by every process of one integration, through PostgreSQL.

Autotask refuses a request ("Thread Threshold Exceeded") when three are already in flight for
the same API integration code and endpoint (sandbox README, "API thread limiting"). One process
keeps to that with a semaphore per endpoint (`EndpointConcurrency`); four worker processes each
keeping to it put up to twelve in flight, and Autotask refuses the rest: in the goal chaos run
(10,000 changes, 4 workers) 1,422 of 13,205 requests were refused this way and sent again.

`SharedThreadSlots` makes the limit one for all processes: a request first takes this process's
semaphore, then one of the endpoint's three slots in the database — a PostgreSQL session-level
advisory lock (`pg_try_advisory_lock(namespace, key)`, the key a hash of the integration code,
the endpoint and the slot's number) held on a connection of its own for as long as the request
is in flight. A process that dies loses its connection and with it its slots, at once: nothing
to expire. When every slot is taken, the caller tries again after a short, jittered pause; when
the database cannot give a slot, the request goes ahead under this process's limit alone.

Two different (integration, endpoint, slot) triples may hash to the same key; they then share a
slot, which makes the limit stricter, never looser. SQLite has no such locks: there the limit is
the process's own (`EndpointConcurrency`), as before — run one worker process on SQLite.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from contractsync.adapters.autotask.limits import MAX_CONCURRENT_PER_ENDPOINT, EndpointConcurrency

log = logging.getLogger(__name__)

#: The first key of every advisory lock taken here (the two-key form: apart from any one-key lock).
NAMESPACE = 0x43534C54  # "CSLT"
#: Pauses between tries while every slot is taken: from the first, doubling up to the last.
FIRST_PAUSE_SECONDS = 0.01
LONGEST_PAUSE_SECONDS = 0.2

_TRY = text("SELECT pg_try_advisory_lock(:namespace, :key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:namespace, :key)")


def _let_go(connection: Connection, key: int) -> None:
    """Unlock; a connection that cannot say so is dropped (its session, and the lock, end)."""
    try:
        connection.execute(_UNLOCK, {"namespace": NAMESPACE, "key": key})
    except DBAPIError as error:
        log.warning("thread_slot_not_unlocked", extra={"error": type(error).__name__})
        connection.invalidate()


def slot_key(integration: str, endpoint: str, slot: int) -> int:
    """The advisory lock key (a signed 32-bit integer) of one slot."""
    digest = hashlib.sha256(f"{integration}\0{endpoint.lower()}\0{slot}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


class SharedThreadSlots:
    """At most `per_endpoint` requests in flight per endpoint for one integration, counted over
    every process using the same PostgreSQL database. `engine` lends the connections that hold
    the slots (one per request in flight): give it a pool of its own."""

    def __init__(
        self, engine: Engine, integration: str, per_endpoint: int = MAX_CONCURRENT_PER_ENDPOINT
    ) -> None:
        self._engine = engine
        self._integration = integration
        self._per_endpoint = per_endpoint
        self._local = EndpointConcurrency(per_endpoint)

    @contextmanager
    def slot(self, endpoint: str) -> Iterator[None]:
        """This process's turn, then a slot in the database; if the database cannot give one
        (unreachable, its pool exhausted), the request goes ahead under this process's limit
        alone — at worst Autotask refuses it, and the client retries."""
        with self._local.slot(endpoint), ExitStack() as held:
            connection, key = None, None
            try:
                connection = held.enter_context(self._engine.connect())
                connection.execution_options(isolation_level="AUTOCOMMIT")
                key = self._take(connection, endpoint)
            except SQLAlchemyError as error:
                log.warning("thread_slot_unavailable", extra={"error": type(error).__name__})
            try:
                yield
            finally:
                if connection is not None and key is not None:
                    _let_go(connection, key)

    def _take(self, connection: Connection, endpoint: str) -> int:
        keys = [slot_key(self._integration, endpoint, n) for n in range(self._per_endpoint)]
        pause = FIRST_PAUSE_SECONDS
        while True:
            random.shuffle(keys)  # spread the processes over the slots
            for key in keys:
                if connection.execute(_TRY, {"namespace": NAMESPACE, "key": key}).scalar_one():
                    return key
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
