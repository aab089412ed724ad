"""The reconciliation-runs port in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contractsync.adapters.db.reconciliation_facts import settings_of
from contractsync.adapters.db.reconciliation_tables import reconciliation_runs, reconciliation_settings
from contractsync.ports.reconciliation_runs import RunResult, Schedule, StoredRun


def _run(row: Any) -> StoredRun:
    values = dict(row._mapping)
    run_id = values.pop("id")
    return StoredRun(run_id, RunResult(**values))


class SqlReconciliationRuns:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, run: RunResult) -> int:
        query = reconciliation_runs.insert().values(**vars(run)).returning(reconciliation_runs.c.id)
        return int(self.session.execute(query).scalar_one())

    def latest(self, connection_id: str, limit: int) -> list[StoredRun]:
        rows = self.session.execute(
            select(reconciliation_runs)
            .where(reconciliation_runs.c.connection_id == connection_id)
            .order_by(reconciliation_runs.c.id.desc())
            .limit(limit)
        )
        return [_run(r) for r in rows]

    def schedule(self, connection_id: str) -> Schedule:
        return Schedule(*settings_of(self.session, connection_id))

    def set_schedule(self, connection_id: str, schedule: Schedule) -> None:
        table = reconciliation_settings
        exists = self.session.execute(
            select(table.c.connection_id).where(table.c.connection_id == connection_id)
        )
        values = {"every_hours": schedule.every_hours, "currency": schedule.currency}
        if exists.first() is None:
            self.session.execute(table.insert().values(connection_id=connection_id, **values))
        else:
            self.session.execute(
                table.update().where(table.c.connection_id == connection_id).values(**values)
            )

    def every_hours(self) -> dict[str, int]:
        rows = self.session.execute(select(reconciliation_settings))
        return {r.connection_id: r.every_hours for r in rows}

    def last_started(self, failed: bool) -> dict[str, datetime]:
        runs = reconciliation_runs.c
        latest = select(runs.connection_id, func.max(runs.started_at)).group_by(runs.connection_id)
        query = latest.where(runs.error.is_not(None) if failed else runs.error.is_(None))
        return {connection_id: started for connection_id, started in self.session.execute(query)}
