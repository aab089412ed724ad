"""Scheduled reconciliation (X1), run by the worker between delivery polls.

Every `check_every_seconds` the worker asks which connections are due (their last run is older
than their `every_hours`; 0 = off) and reconciles each, storing the run; drift raises an X5
alert. A reconciliation that cannot read Autotask is stored with its error, logged, and tried
again an hour later. Two workers may reconcile the same connection at about the same time: a report changes
nothing, so that costs reads, never correctness.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from contractsync.ports.clock import Clock

log = logging.getLogger(__name__)

DueConnections = Callable[[datetime], list[str]]
Reconcile = Callable[[str], object]


class ReconcileScheduler:
    def __init__(
        self, clock: Clock, due: DueConnections, reconcile: Reconcile, check_every_seconds: float = 60.0
    ) -> None:
        self._clock = clock
        self._due = due
        self._reconcile = reconcile
        self._check_every = timedelta(seconds=check_every_seconds)
        self._last_check: datetime | None = None

    def tick(self) -> list[str]:
        """Reconcile every connection that is due now; answer the ones this call reconciled."""
        now = self._clock.now()
        if self._last_check is not None and now - self._last_check < self._check_every:
            return []
        self._last_check = now
        ran = []
        for connection_id in self._due(now):
            try:
                self._reconcile(connection_id)
            except Exception:
                log.exception("scheduled reconciliation of %s failed", connection_id)
                continue
            ran.append(connection_id)
        return ran
