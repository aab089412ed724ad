"""Staying inside Autotask's limits without failing: a request budget and a per-endpoint cap.

Autotask allows 10,000 requests per rolling hour for the whole tenant (every integration
shares it) and blocks the tenant at the cap; it also refuses a 4th concurrent request of one
integration to one endpoint (`ThreadSlots`: this process's `EndpointConcurrency`, or every
process's through PostgreSQL, `adapters/db/thread_slots.py`). contractsync spends at most its
own share (5,000 by default) and *slows down* as it nears it, so a busy day stretches instead of
failing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from contractsync.adapters.clock import Clock, Sleeper

DEFAULT_HOURLY_BUDGET = 5_000
DEFAULT_SLOW_DOWN_FROM = 0.8
MAX_CONCURRENT_PER_ENDPOINT = 3


@dataclass(frozen=True)
class BudgetUsage:
    used: int
    limit: int
    window_seconds: float

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 1.0


class RequestBudget(Protocol):
    """Permission to send one request. Implementations may wait (with the injected sleeper)
    but never refuse; a database-backed one lets every worker of a connection share a budget."""

    def acquire(self) -> None: ...

    def usage(self) -> BudgetUsage: ...


class UnlimitedBudget:
    """For tools that must not be paced (the benchmark's raw baseline)."""

    def acquire(self) -> None:
        return None

    def usage(self) -> BudgetUsage:
        return BudgetUsage(used=0, limit=0, window_seconds=0)


class RollingWindowBudget:
    """An in-process, thread-safe budget over a rolling window.

    Below `slow_down_from` of the limit requests go at once. Above it, the requests left are
    spread evenly over the time until the oldest request in the window expires, so a burst
    cannot spend the rest of the hour in one go. At the limit, callers wait for the window.
    """

    def __init__(
        self,
        clock: Clock,
        sleeper: Sleeper,
        *,
        limit: int = DEFAULT_HOURLY_BUDGET,
        window: timedelta = timedelta(hours=1),
        slow_down_from: float = DEFAULT_SLOW_DOWN_FROM,
    ) -> None:
        if limit < 1:
            raise ValueError("the budget needs a limit of at least 1 request")
        if not 0 < slow_down_from <= 1:
            raise ValueError("slow_down_from is a fraction in (0, 1]")
        self._clock = clock
        self._sleeper = sleeper
        self._limit = limit
        self._window = window
        self._slow_from = int(limit * slow_down_from)
        self._sent: deque[datetime] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock.now()
                self._forget_before(now - self._window)
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._sent.append(now)
                    return
            # Sleep outside the lock so other threads can see the budget; then look again.
            self._sleeper.sleep(wait)

    def usage(self) -> BudgetUsage:
        with self._lock:
            self._forget_before(self._clock.now() - self._window)
            return BudgetUsage(len(self._sent), self._limit, self._window.total_seconds())

    def _forget_before(self, horizon: datetime) -> None:
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()

    def _wait_needed(self, now: datetime) -> float:
        used = len(self._sent)
        if not self._sent or used < self._slow_from:
            return 0.0
        until_oldest_expires = (self._sent[0] + self._window - now).total_seconds()
        if used >= self._limit:
            return max(until_oldest_expires, 0.0)
        spacing = until_oldest_expires / (self._limit - used)
        since_last = (now - self._sent[-1]).total_seconds()
        return max(spacing - since_last, 0.0)


class ThreadSlots(Protocol):
    """Where a request waits for its turn under Autotask's thread limit (per endpoint)."""

    def slot(self, endpoint: str) -> AbstractContextManager[None]: ...


class EndpointConcurrency:
    """At most `per_endpoint` requests in flight per endpoint; further callers wait their turn."""

    def __init__(self, per_endpoint: int = MAX_CONCURRENT_PER_ENDPOINT) -> None:
        if per_endpoint < 1:
            raise ValueError("per_endpoint must be at least 1")
        self._per_endpoint = per_endpoint
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, endpoint: str) -> Iterator[None]:
        with self._lock:
            semaphore = self._semaphores.get(endpoint)
            if semaphore is None:
                semaphore = threading.BoundedSemaphore(self._per_endpoint)
                self._semaphores[endpoint] = semaphore
        with semaphore:
            yield


def endpoint_of(url: str) -> str:
    """The endpoint a URL counts under for Autotask's thread limit: its entity. Child paths of a
    contract count under the child entity (`Contracts/1/Services` is ContractServices)."""
    path = urlsplit(url).path.lower()
    marker = "/v1.0/"
    tail = path.split(marker, 1)[1] if marker in path else path
    segments = [s for s in tail.split("/") if s]
    if len(segments) >= 3 and segments[0] == "contracts" and segments[2] in _CONTRACT_CHILDREN:
        return _CONTRACT_CHILDREN[segments[2]]
    return segments[0] if segments else ""


_CONTRACT_CHILDREN = {
    "services": "contractservices",
    "serviceadjustments": "contractserviceadjustments",
    "serviceunits": "contractserviceunits",
}
