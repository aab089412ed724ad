"""Reconciliation runs as stored, and each connection's reconciliation schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

#: a connection without a schedule of its own is reconciled daily, in US dollars
DEFAULT_EVERY_HOURS = 24
DEFAULT_CURRENCY = "USD"
#: the trigger of a run that queued corrections (`POST /v1/reconciliation {fix: true}`)
FIX = "fix"


@dataclass(frozen=True)
class RunResult:
    """One reconciliation run of a connection (`error`: why Autotask could not be read)."""

    connection_id: str
    trigger: str  # scheduled | on_demand | fix
    started_at: datetime
    finished_at: datetime
    services_checked: int
    reads: int
    money_impact: Decimal
    currency: str
    #: count by difference kind
    differences: dict[str, int] = field(default_factory=dict)
    #: subscription ids with drift
    drifting: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class StoredRun:
    id: int
    run: RunResult


@dataclass(frozen=True)
class Schedule:
    every_hours: int  # 0: off
    currency: str


class ReconciliationRuns(Protocol):
    def add(self, run: RunResult) -> int: ...

    def latest(self, connection_id: str, limit: int) -> list[StoredRun]:
        """The connection's runs, newest first."""
        ...

    def schedule(self, connection_id: str) -> Schedule:
        """The connection's schedule (daily in the default currency until one is set)."""
        ...

    def set_schedule(self, connection_id: str, schedule: Schedule) -> None: ...

    def every_hours(self) -> dict[str, int]:
        """The connections with a schedule set, and its hours."""
        ...

    def last_started(self, failed: bool) -> dict[str, datetime]:
        """Per connection, the start of its latest run that failed (or that did not)."""
        ...
