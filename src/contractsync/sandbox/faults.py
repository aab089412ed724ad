"""Switchable fault injection: what goes wrong between the connector and Autotask."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args

from contractsync.sandbox.errors import SandboxError

FaultKind = Literal[
    "http_500",
    "http_503",
    "http_429",
    "thread_threshold",
    "timeout",
    "timeout_after_apply",
    "connection_reset",
    "applied_then_500",
    "latency",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass
class Fault:
    endpoint: str  # an entity/endpoint name, or "*"
    kind: FaultKind
    rate: float | None
    remaining: int | None  # how many more requests it hits; None: no limit
    delay_seconds: float

    def matches(self, endpoint: str) -> bool:
        return self.endpoint == "*" or self.endpoint.lower() == endpoint.lower()


def parse_fault(body: object) -> Fault:
    if not isinstance(body, dict):
        raise SandboxError("The fault must be a JSON object.", status=400)
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        raise SandboxError(f"kind must be one of {', '.join(FAULT_KINDS)}.", status=400)
    endpoint = body.get("endpoint", "*")
    rate, count, delay = body.get("rate"), body.get("count"), body.get("delay_seconds", 30)
    if not isinstance(endpoint, str) or not endpoint:
        raise SandboxError("endpoint must be an entity name or '*'.", status=400)
    if rate is not None and not (
        isinstance(rate, int | float | Decimal) and not isinstance(rate, bool) and 0 <= float(rate) <= 1
    ):
        raise SandboxError("rate must be between 0 and 1.", status=400)
    if count is not None and not (isinstance(count, int) and count >= 0):
        raise SandboxError("count must be a non-negative integer.", status=400)
    if isinstance(delay, bool) or not isinstance(delay, int | float | Decimal) or float(delay) < 0:
        raise SandboxError("delay_seconds must be a non-negative number.", status=400)
    return Fault(endpoint, kind, None if rate is None else float(rate), count, float(delay))


class FaultInjector:
    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)  # seeded: a chaos run is repeatable
        self._seed = seed
        self._release: asyncio.Event | None = None

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rng = random.Random(self._seed)
        self.release_holds()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(fault).copy() for fault in self._faults]

    def pick(self, endpoint: str) -> Fault | None:
        """The fault that hits this request, if any (the first matching one that fires)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(endpoint) or fault.remaining == 0:
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
            return None

    async def hold(self, seconds: float) -> None:
        """Hold a request like a hung server would; `release_holds` (clearing the faults, reset,
        shutdown) lets every held request go at once, so tests need not wait out the delay."""
        if self._release is None:
            self._release = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), timeout=seconds)

    def release_holds(self) -> None:
        """Must run on the server's event loop (the admin routes do)."""
        event, self._release = self._release, None
        if event is not None:
            event.set()
