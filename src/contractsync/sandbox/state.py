"""Everything one running sandbox holds: its configuration, data, limits, faults and counters."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from contractsync.adapters.clock import Clock, SystemClock
from contractsync.sandbox.faults import FaultInjector
from contractsync.sandbox.limits import RequestLimits
from contractsync.sandbox.stats import Stats
from contractsync.sandbox.store import Store

DEFAULT_USERNAME = "sandbox@example.com"
DEFAULT_SECRET = "sandbox-secret"  # the well-known demo credential
DEFAULT_INTEGRATION_CODE = "SANDBOX"


@dataclass
class SandboxConfig:
    username: str = DEFAULT_USERNAME
    secret: str = field(default=DEFAULT_SECRET, repr=False)  # never printed by repr/logs
    integration_code: str = DEFAULT_INTEGRATION_CODE
    data_file: Path | None = None  # None: in memory only
    seed: str | None = None  # "demo" seeds Contoso and Fabrikam
    budget: int = 10_000  # requests per rolling hour
    thread_limit: int = 3  # requests in flight per (integration code, endpoint)
    clock: Clock = field(default_factory=SystemClock)
    fault_seed: int = 0  # seed of the fault RNG (`rate` faults)


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.store = Store(config.data_file)
        self.limits = RequestLimits(config.clock, config.budget, config.thread_limit)
        self.faults = FaultInjector(config.fault_seed)
        self.stats = Stats()
        self.loop: asyncio.AbstractEventLoop | None = None  # set when the server starts

    def reset(self) -> None:
        """Back to an empty sandbox with the configured limits (credentials stay)."""
        self.store.clear()
        self.faults.clear()
        self.stats.reset()
        self.limits.reset()
        self.limits.budget = self.config.budget
        self.limits.thread_limit = self.config.thread_limit
