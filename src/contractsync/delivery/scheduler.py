"""The daily sweep per connection, run inside the worker in each connection's time zone.

Whoever claims the (connection, date) run (`SweepRuns`) runs that day's sweep, so any number of
workers may tick. A sweep that raises keeps its claim (never finished) and is not retried on its
own: sweeps are re-runnable on demand (`contractsync sweep --date D`), and an automatic retry of a
sweep that fails every time would hammer Autotask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contractsync.ports.clock import Clock
from contractsync.ports.delivery import SweepRuns

log = logging.getLogger(__name__)

Sweep = Callable[[str, date], object]


class DailySweepScheduler:
    def __init__(
        self,
        runs: SweepRuns,
        clock: Clock,
        sweep: Sweep,
        check_every_seconds: float = 30.0,
    ) -> None:
        self._runs = runs
        self._clock = clock
        self._sweep = sweep
        self._check_every = timedelta(seconds=check_every_seconds)
        self._last_check: datetime | None = None

    def tick(self) -> list[tuple[str, date]]:
        """Run every sweep that is due now; answer the (connection, date) pairs this call ran."""
        now = self._clock.now()
        if self._last_check is not None and now - self._last_check < self._check_every:
            return []
        self._last_check = now
        ran: list[tuple[str, date]] = []
        for connection_id, zone in self._runs.connection_zones():
            try:
                today = now.astimezone(ZoneInfo(zone)).date()
            except (ZoneInfoNotFoundError, ValueError):
                log.error("connection %s has an unknown time zone %r; no sweep", connection_id, zone)
                continue
            if self._runs.claim(connection_id, today, now):
                self._run(connection_id, today)
                ran.append((connection_id, today))
        return ran

    def _run(self, connection_id: str, day: date) -> None:
        try:
            self._sweep(connection_id, day)
        except Exception:
            log.exception("sweep of %s for %s failed", connection_id, day)
            return
        self._runs.finish(connection_id, day, self._clock.now())
