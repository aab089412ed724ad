"""The daily sweep per connection, run inside the worker in each connection's time zone.

Whoever inserts the unique (connection, date) `sweep_runs` row runs that day's sweep; a worker
that loses the race gets an IntegrityError and skips, so any number of workers may tick.
A sweep that raises keeps its claim (finished_at stays empty) and is not retried on its own:
sweeps are re-runnable on demand (`contractsync sweep --date D`), and an automatic retry of a
sweep that fails every time would hammer Autotask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import Clock
from contractsync.adapters.db.session import run_in_transaction, transaction
from contractsync.adapters.db.tables import connections, sweep_runs

log = logging.getLogger(__name__)

Sweep = Callable[[str, date], object]


class DailySweepScheduler:
    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        sweep: Sweep,
        check_every_seconds: float = 30.0,
    ) -> None:
        self._factory = factory
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
        for connection_id, zone in self._connections():
            try:
                today = now.astimezone(ZoneInfo(zone)).date()
            except (ZoneInfoNotFoundError, ValueError):
                log.error("connection %s has an unknown time zone %r; no sweep", connection_id, zone)
                continue
            if self._claim(connection_id, today, now):
                self._run(connection_id, today)
                ran.append((connection_id, today))
        return ran

    def _connections(self) -> list[tuple[str, str]]:
        with transaction(self._factory) as session:
            rows = session.execute(
                select(connections.c.id, connections.c.timezone).order_by(connections.c.id)
            )
            return [(str(r[0]), str(r[1])) for r in rows]

    def _claim(self, connection_id: str, day: date, now: datetime) -> bool:
        def claim(session: Session) -> bool:
            exists = session.execute(
                select(sweep_runs.c.id).where(
                    sweep_runs.c.connection_id == connection_id, sweep_runs.c.sweep_date == day
                )
            ).first()
            if exists is not None:
                return False
            session.execute(
                insert(sweep_runs).values(connection_id=connection_id, sweep_date=day, started_at=now)
            )
            return True

        try:
            return run_in_transaction(self._factory, claim)
        except IntegrityError:
            return False  # another worker claimed it between our check and our insert

    def _run(self, connection_id: str, day: date) -> None:
        try:
            self._sweep(connection_id, day)
        except Exception:
            log.exception("sweep of %s for %s failed", connection_id, day)
            return
        run_in_transaction(
            self._factory,
            lambda session: session.execute(
                update(sweep_runs)
                .where(sweep_runs.c.connection_id == connection_id, sweep_runs.c.sweep_date == day)
                .values(finished_at=self._clock.now())
            ),
        )
