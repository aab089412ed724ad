"""The reconciliation-runs port in memory."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from contractsync.ports.reconciliation_runs import (
    DEFAULT_CURRENCY,
    DEFAULT_EVERY_HOURS,
    RunResult,
    Schedule,
    StoredRun,
)

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData

DEFAULT_SCHEDULE = Schedule(DEFAULT_EVERY_HOURS, DEFAULT_CURRENCY)


class MemoryReconciliationRuns:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, run: RunResult) -> int:
        run_id = max(self.data.runs, default=0) + 1
        self.data.runs[run_id] = run
        return run_id

    def latest(self, connection_id: str, limit: int) -> list[StoredRun]:
        runs = [StoredRun(i, r) for i, r in sorted(self.data.runs.items(), reverse=True)]
        return [r for r in runs if r.run.connection_id == connection_id][:limit]

    def schedule(self, connection_id: str) -> Schedule:
        return self.data.schedules.get(connection_id, DEFAULT_SCHEDULE)

    def set_schedule(self, connection_id: str, schedule: Schedule) -> None:
        self.data.schedules[connection_id] = schedule

    def every_hours(self) -> dict[str, int]:
        return {k: s.every_hours for k, s in self.data.schedules.items()}

    def last_started(self, failed: bool) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for run in self.data.runs.values():
            if (run.error is not None) == failed:
                previous = found.get(run.connection_id)
                found[run.connection_id] = (
                    run.started_at if previous is None else max(previous, run.started_at)
                )
        return found
