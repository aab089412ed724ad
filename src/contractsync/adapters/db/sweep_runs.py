"""Who runs each connection's daily sweep (`contractsync.ports.delivery.SweepRuns`): whoever
inserts the unique (connection, date) `sweep_runs` row; a worker that loses the race gets an
IntegrityError and skips, so any number of workers may tick."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.session import run_in_transaction, transaction
from contractsync.adapters.db.tables import connections, sweep_runs


class SqlSweepRuns:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def connection_zones(self) -> list[tuple[str, str]]:
        with transaction(self._sessions) as session:
            rows = session.execute(
                select(connections.c.id, connections.c.timezone).order_by(connections.c.id)
            )
            return [(str(r[0]), str(r[1])) for r in rows]

    def claim(self, connection_id: str, day: date, now: datetime) -> bool:
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
            return run_in_transaction(self._sessions, claim)
        except IntegrityError:
            return False  # another worker claimed it between our check and our insert

    def finish(self, connection_id: str, day: date, now: datetime) -> None:
        run_in_transaction(
            self._sessions,
            lambda session: session.execute(
                update(sweep_runs)
                .where(sweep_runs.c.connection_id == connection_id, sweep_runs.c.sweep_date == day)
                .values(finished_at=now)
            ),
        )
