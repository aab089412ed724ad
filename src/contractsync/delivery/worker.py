"""The worker loop: claim due contract services and deliver them in parallel.

The main thread claims (one short transaction per service) and hands each leased service to a
thread pool of `concurrency` threads; a thread delivers that service's due rows in order.
PostgreSQL: run as many worker processes as you like (SKIP LOCKED). SQLite: run one worker
process (its threads share the database through BEGIN IMMEDIATE).

A heartbeat thread renews the leases of the services being delivered every `heartbeat_seconds`,
so a live worker keeps them however long a call takes, and a dead one loses them `lease_seconds`
after its last beat. `stop` (SIGTERM) ends claiming; calls in flight get `shutdown_grace_seconds`
to finish, then their services are abandoned (released, units unknown: verified before anything
else is sent) and `run_forever` returns; `abandoned` then says threads are still stuck in calls.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.deliver import ServiceDelivery
from contractsync.delivery.posted_check import PostedPeriodCache
from contractsync.ports.clock import Clock
from contractsync.ports.delivery import DeliveryStore, DeliveryTransaction, ServiceClaim, Waker
from contractsync.ports.psa import PsaConnector, ServiceTarget, ServiceUnitsPeriod, TargetApplied

log = logging.getLogger(__name__)

#: Builds (or returns a cached) connector for a connection id. Must be safe to share across threads.
ConnectorFactory = Callable[[str], PsaConnector]


#: How often a worker waiting for its deliveries looks whether it was asked to stop.
STOP_CHECK_SECONDS = 0.2


@dataclass
class RunStats:
    services: int = 0
    steps: int = 0
    calls: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        store: DeliveryStore,
        connectors: ConnectorFactory,
        clock: Clock,
        config: WorkerConfig | None = None,
        rng: random.Random | None = None,
        tick: Callable[[], None] | None = None,
        creations: Callable[[], int] | None = None,
    ) -> None:
        self._store = store
        #: delivers the due outbox rows that create contract services (before the adjustments)
        self._creations = creations
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
        self._stop = threading.Event()
        self._active: dict[str, ServiceClaim] = {}  # by token: leases the heartbeat renews
        self._active_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        #: Calls still in flight when shutdown gave up on them (their services were released).
        self.abandoned = 0

    def run_once(self) -> RunStats:
        """Deliver everything due now (and what becomes due meanwhile), then return — at once
        after `stop`, abandoning the calls that did not finish within the grace time."""
        stats = RunStats()
        if self._creations is not None and not self._stop.is_set():
            stats.steps += self._creations()
        self._start_heartbeat()
        pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="deliver")
        in_flight: dict[Future[int], ServiceClaim] = {}
        give_up_at: float | None = None  # after `stop`: when calls still in flight are abandoned
        try:
            while True:
                while len(in_flight) < self.config.concurrency and not self._stop.is_set():
                    busy = {(c.connection_id, c.contract_service_id) for c in in_flight.values()}
                    claim = self._claim(busy)
                    if claim is None:
                        break
                    stats.services += 1
                    self._track(claim, True)
                    in_flight[pool.submit(self._deliver, claim, stats)] = claim
                if not in_flight:
                    return stats
                done, _ = wait(in_flight, timeout=STOP_CHECK_SECONDS, return_when=FIRST_COMPLETED)
                if self._stop.is_set() and not done:
                    if give_up_at is None:
                        give_up_at = time.monotonic() + self.config.shutdown_grace_seconds
                    elif time.monotonic() >= give_up_at:  # the calls left did not finish in time
                        self._abandon(list(in_flight.values()))
                        return stats
                for future in done:
                    self._track(in_flight.pop(future), False)
                    stats.steps += future.result()
        finally:
            pool.shutdown(wait=not in_flight, cancel_futures=True)

    def run_forever(self, stop: threading.Event, waker: Waker) -> None:
        self._stop = stop
        next_check = time.monotonic()
        while not stop.is_set():
            stats = self.run_once()
            if self._tick is not None and not stop.is_set():
                self._tick()
            if time.monotonic() >= next_check:
                self.self_check()
                next_check = time.monotonic() + self.config.self_check_seconds
            if stats.services == 0:
                waker.wait(self.config.poll_interval)
        self.close()

    def self_check(self) -> Sequence[object]:
        """Raise an X5 alert for each contract service whose ledger no longer adds up with its
        last verification (drift made by contractsync itself); answer them."""
        try:
            return self._store.transaction(lambda tx: tx.raise_drift_alerts(self._clock.now()))
        except Exception:  # a self-check must never stop deliveries
            log.exception("ledger self-check failed")
            return []

    def stop(self) -> None:
        """Stop claiming (what SIGTERM does); `run_once` / `run_forever` return soon after."""
        self._stop.set()

    def close(self) -> None:
        """Stop the heartbeat (after the last run)."""
        self._stop.set()

    def _claim(self, busy: set[tuple[str, int]]) -> ServiceClaim | None:
        # `busy`: services this process is delivering right now, even if their lease lapsed.
        return self._store.transaction(
            lambda tx: tx.claim_service(
                self.config.owner,
                self._clock.now(),
                self.config.lease_seconds,
                self.config.claim_batch,
                busy,
            ),
        )

    # -- leases: heartbeat and shutdown ------------------------------------------------------

    def _track(self, claim: ServiceClaim, active: bool) -> None:
        with self._active_lock:
            if active:
                self._active[claim.token] = claim
            else:
                self._active.pop(claim.token, None)

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or not self._heartbeat.is_alive():
            self._heartbeat = threading.Thread(target=self._beat_forever, name="lease-heartbeat", daemon=True)
            self._heartbeat.start()

    def _beat_forever(self) -> None:
        while not self._stop.wait(self.config.heartbeat_seconds):
            self.beat()

    def beat(self) -> None:
        """Renew every lease this worker holds (one short transaction per service)."""
        with self._active_lock:
            active = sorted(self._active.values(), key=lambda c: (c.connection_id, c.contract_service_id))
        for claim in active:
            try:
                self._store.transaction(partial(self._renew, claim=claim))
            except Exception:  # the database is away: the next beat tries again
                log.exception("lease heartbeat for contract service %s failed", claim.contract_service_id)

    def _renew(self, tx: DeliveryTransaction, claim: ServiceClaim) -> bool:
        return tx.heartbeat(claim, self._clock.now(), self.config.lease_seconds)

    def _abandon(self, stuck: list[ServiceClaim]) -> None:
        for claim in stuck:
            self._track(claim, False)
            cut = self._store.transaction(partial(_abandon, claim=claim))
            self.abandoned += 1
            log.warning(
                "shutdown: contract service %s released%s",
                claim.contract_service_id,
                " with its call in flight (marked unknown: it is verified before anything is sent)"
                if cut
                else "",
            )

    def _deliver(self, claim: ServiceClaim, stats: RunStats) -> int:
        def count(kind: str) -> None:
            with self._stats_lock:
                stats.calls[kind] = stats.calls.get(kind, 0) + 1

        with self._rng_lock:
            rng = random.Random(self._rng.random())
        try:
            connector = self._connector(claim.connection_id)
            delivery = ServiceDelivery(
                self._store,
                connector,
                self._clock,
                self.config,
                rng,
                claim,
                count,
                self._posted,
                self._stop.is_set,
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


def _abandon(tx: DeliveryTransaction, claim: ServiceClaim) -> bool:
    return tx.abandon(claim)


class UnusableConnector:
    """Stands in for a connector that could not be built: every call raises why."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        """The target itself (no PSA to translate it)."""
        return {
            "contract_id": target.contract_id,
            "contract_service_id": target.contract_service_id,
            "effective_date": target.effective_date.isoformat(),
            "units": target.units,
            "unit_price": str(target.unit_price),
            "unit_cost": str(target.unit_cost),
            "held_units": target.held_units,
        }

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        raise self._error

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        raise self._error
