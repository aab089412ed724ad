"""The worker loop: claim due contract services and deliver them in parallel.

The main thread claims (one short transaction per service) and hands each leased service to a
thread pool of `concurrency` threads; a thread delivers that service's due rows in order.
PostgreSQL: run as many worker processes as you like (SKIP LOCKED). SQLite: run one worker
process (its threads share the database through BEGIN IMMEDIATE).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import Clock
from contractsync.adapters.db.session import transaction
from contractsync.delivery import claim as claims
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.deliver import ServiceDelivery
from contractsync.delivery.posted_check import PostedPeriodCache
from contractsync.delivery.wakeup import Waker
from contractsync.service.psa import AdjustmentRequest, PsaConnector, ServiceUnitsPeriod

log = logging.getLogger(__name__)

#: Builds (or returns a cached) connector for a connection id. Must be safe to share across threads.
ConnectorFactory = Callable[[str], PsaConnector]


@dataclass
class RunStats:
    services: int = 0
    steps: int = 0
    calls: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        connectors: ConnectorFactory,
        clock: Clock,
        config: WorkerConfig | None = None,
        rng: random.Random | None = None,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self._factory = factory
        self._connectors = connectors
        self._clock = clock
        self.config = config or WorkerConfig()
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._tick = tick  # e.g. the scheduler, run between polls
        self._stats_lock = threading.Lock()
        self._posted = (
            PostedPeriodCache(clock, self.config.posted_read_ttl) if self.config.read_posted_periods else None
        )

    def run_once(self) -> RunStats:
        """Deliver everything due now (and what becomes due meanwhile), then return."""
        stats = RunStats()
        with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="deliver") as pool:
            in_flight: dict[Future[int], tuple[str, int]] = {}
            while True:
                while len(in_flight) < self.config.concurrency:
                    claim = self._claim(busy=set(in_flight.values()))
                    if claim is None:
                        break
                    stats.services += 1
                    future = pool.submit(self._deliver, claim, stats)
                    in_flight[future] = (claim.connection_id, claim.contract_service_id)
                if not in_flight:
                    return stats
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    del in_flight[future]
                    stats.steps += future.result()

    def run_forever(self, stop: threading.Event, waker: Waker) -> None:
        while not stop.is_set():
            stats = self.run_once()
            if self._tick is not None:
                self._tick()
            if stats.services == 0:
                waker.wait(self.config.poll_interval)

    def _claim(self, busy: set[tuple[str, int]]) -> claims.ServiceClaim | None:
        # `busy`: services this process is delivering right now, even if their lease lapsed.
        with transaction(self._factory) as session:
            return claims.claim_service(
                session,
                self.config.owner,
                self._clock.now(),
                self.config.lease_seconds,
                self.config.claim_batch,
                busy,
            )

    def _deliver(self, claim: claims.ServiceClaim, stats: RunStats) -> int:
        def count(kind: str) -> None:
            with self._stats_lock:
                stats.calls[kind] = stats.calls.get(kind, 0) + 1

        with self._rng_lock:
            rng = random.Random(self._rng.random())
        try:
            connector = self._connector(claim.connection_id)
            delivery = ServiceDelivery(
                self._factory, connector, self._clock, self.config, rng, claim, count, self._posted
            )
            return delivery.run()
        except Exception:
            # The service keeps its lease until it expires: that is the back-off before the
            # next attempt. Nothing was sent that is not recorded (see ServiceDelivery).
            log.exception("delivery for contract service %s failed", claim.contract_service_id)
            return 0

    def _connector(self, connection_id: str) -> PsaConnector:
        """Asked for on every delivery: the factory keeps one connector per credentials version,
        so new credentials are used from the next delivery on (no cache here)."""
        try:
            return self._connectors(connection_id)
        except Exception as error:  # e.g. a URL the allow-list refuses: its rows fail with the reason
            log.warning("no connector for connection %s: %s", connection_id, type(error).__name__)
            return UnusableConnector(error)


class UnusableConnector:
    """Stands in for a connector that could not be built: every call raises why."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def create_adjustment(self, request: AdjustmentRequest) -> int:
        raise self._error

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        raise self._error
