"""Autotask's two limits: a rolling-hour request budget and 3 requests in flight per endpoint."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from contractsync.adapters.clock import Clock

WINDOW = timedelta(hours=1)


class RequestLimits:
    def __init__(self, clock: Clock, budget: int, thread_limit: int) -> None:
        self.clock = clock
        self.budget = budget
        self.thread_limit = thread_limit
        self._lock = threading.Lock()
        self._stamps: deque[datetime] = deque()
        self._in_flight: dict[tuple[str, str], int] = {}

    def _prune(self, now: datetime) -> None:
        while self._stamps and self._stamps[0] <= now - WINDOW:
            self._stamps.popleft()

    def used(self) -> int:
        with self._lock:
            self._prune(self.clock.now())
            return len(self._stamps)

    def spend(self) -> bool:
        """Count one request against the rolling hour; False when the budget is used up (the
        refused request is not counted, so the window drains as time passes)."""
        with self._lock:
            now = self.clock.now()
            self._prune(now)
            if len(self._stamps) >= self.budget:
                return False
            self._stamps.append(now)
            return True

    def enter(self, integration_code: str, endpoint: str) -> int | None:
        """Start a request; the number now in flight, or None when over the thread limit."""
        with self._lock:
            key = (integration_code, endpoint)
            current = self._in_flight.get(key, 0)
            if current >= self.thread_limit:
                return None
            self._in_flight[key] = current + 1
            return current + 1

    def leave(self, integration_code: str, endpoint: str) -> None:
        with self._lock:
            key = (integration_code, endpoint)
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def in_flight(self) -> dict[str, int]:
        with self._lock:
            totals: dict[str, int] = {}
            for (_, endpoint), count in self._in_flight.items():
                totals[endpoint] = totals.get(endpoint, 0) + count
            return totals

    def reset(self) -> None:
        with self._lock:
            self._stamps.clear()
