"""Counters the sandbox exposes at GET /sandbox/stats (tests and benchmarks read them)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.max_in_flight: dict[str, int] = {}
            self.rejections: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.adjustments_created = 0

    def request(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1

    def in_flight(self, endpoint: str, count: int) -> None:
        with self._lock:
            self.max_in_flight[endpoint] = max(self.max_in_flight.get(endpoint, 0), count)

    def rejection(self, reason: str) -> None:
        with self._lock:
            self.rejections[reason] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def adjustment(self) -> None:
        with self._lock:
            self.adjustments_created += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "max_in_flight": dict(self.max_in_flight),
                "adjustments_created": self.adjustments_created,
                "rejections": dict(self.rejections),
                "faults_injected": dict(self.faults),
            }
