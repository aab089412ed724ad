"""Stored reconciliation runs, their schedule per connection, and the X5 drift alert.

Every reconciliation (scheduled by the worker, or on demand) is stored: when, services checked,
Autotask reads, differences by kind, money impact, and which subscriptions drift. Drift raises
one `reconciliation_drift` alert per connection; a run without drift resolves it.
A connection is reconciled every `every_hours` (default 24; 0 = never) by the worker; a run that
could not read Autotask is stored with its error and tried again an hour later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from contractsync.domain.money import format_money
from contractsync.domain.reconciliation import KINDS, Difference, Kind
from contractsync.ports.reconciliation_runs import DEFAULT_EVERY_HOURS, RunResult, Schedule, StoredRun
from contractsync.service import alerting, views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.errors import Invalid

JSON = dict[str, Any]
DRIFT_ALERT = "reconciliation_drift"
#: after a run that could not read Autotask, the next scheduled attempt waits this long
RETRY_AFTER = timedelta(hours=1)


class RunOf(Protocol):
    """Which connection a run reconciles (the facts `reconcile` read), in which currency."""

    @property
    def connection_id(self) -> str: ...

    @property
    def currency(self) -> str: ...


def store(
    ctx: ServiceContext,
    records: RunOf,
    report: JSON,
    differences: list[Difference],
    started: datetime,
    trigger: str,
) -> int:
    drifting = sorted({d.subscription_id for d in differences if d.kind is Kind.DRIFT})
    counts = {kind.value: sum(1 for d in differences if d.kind is kind) for kind in KINDS}
    run = RunResult(
        connection_id=records.connection_id,
        trigger=trigger,
        started_at=started,
        finished_at=ctx.now(),
        services_checked=report["services_checked"],
        reads=report["reads"],
        differences=counts,
        money_impact=Decimal(report["money_impact"]),
        currency=records.currency,
        drifting=drifting,
    )
    with ctx.units() as uow:
        run_id = uow.reconciliation_runs.add(run)
        if drifting:
            message = (
                f"reconciliation of connection {records.connection_id} found drift on "
                f"{len(drifting)} subscription(s): {', '.join(drifting[:10])}{' …' if len(drifting) > 10 else ''}"
            )
            alerting.raise_alert(uow.alerts, DRIFT_ALERT, message, records.connection_id, None, ctx.now())
        else:
            alerting.resolve(uow.alerts, DRIFT_ALERT, records.connection_id, None, ctx.now())
    return run_id


def store_failure(
    ctx: ServiceContext, records: RunOf, checked: int, started: datetime, trigger: str, error: str
) -> None:
    """A run that could not read Autotask is stored too, with the reason."""
    run = RunResult(
        connection_id=records.connection_id, trigger=trigger, started_at=started, finished_at=ctx.now(),
        services_checked=checked, reads=0, money_impact=Decimal(0), currency=records.currency,
        error=f"Autotask could not be read: {error}",
    )  # fmt: skip
    with ctx.units() as uow:
        uow.reconciliation_runs.add(run)


def run_view(stored: StoredRun) -> JSON:
    row = stored.run
    return {
        "id": stored.id,
        "connection_id": row.connection_id,
        "trigger": row.trigger,
        "started_at": views.instant(row.started_at),
        "finished_at": views.instant(row.finished_at),
        "services_checked": row.services_checked,
        "reads": row.reads,
        "differences": {kind.value: int(row.differences.get(kind.value, 0)) for kind in KINDS},
        "money_impact": format_money(row.money_impact),
        "currency": row.currency,
        "drifting_subscriptions": list(row.drifting),
        "error": row.error,
    }


def list_runs(ctx: ServiceContext, actor: Actor, connection_id: str, limit: int = 50) -> JSON:
    if not 1 <= limit <= 500:
        raise Invalid("limit must be between 1 and 500")
    with ctx.units(commit=False) as uow:
        visible_connection(uow.directory, actor, connection_id)
        rows = uow.reconciliation_runs.latest(connection_id, limit)
        schedule = uow.reconciliation_runs.schedule(connection_id)
    return {
        "connection_id": connection_id,
        "schedule": _schedule(schedule),
        "items": [run_view(r) for r in rows],
    }


def _schedule(schedule: Schedule) -> JSON:
    every_hours = schedule.every_hours
    return {"every_hours": every_hours, "enabled": every_hours > 0, "currency": schedule.currency}


def set_schedule(ctx: ServiceContext, actor: Actor, connection_id: str, body: JSON) -> JSON:
    """`{every_hours?: 0..8760 (0 = off), currency?: "EUR"}` for one connection."""
    with ctx.units() as uow:
        visible_connection(uow.directory, actor, connection_id)
        schedule = uow.reconciliation_runs.schedule(connection_id)
        every_hours, currency = schedule.every_hours, schedule.currency
        if "every_hours" in body:
            value = body["every_hours"]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 8760:
                raise Invalid("every_hours must be a whole number of hours from 0 (off) to 8760")
            every_hours = value
        if "currency" in body:
            value = body["currency"]
            if not isinstance(value, str) or len(value) != 3 or not value.isalpha() or not value.isupper():
                raise Invalid("currency must be an ISO 4217 code of three capital letters, e.g. EUR")
            currency = value
        schedule = Schedule(every_hours, currency)
        uow.reconciliation_runs.set_schedule(connection_id, schedule)
    return {"connection_id": connection_id, "schedule": _schedule(schedule)}


def due_connections(ctx: ServiceContext, now: datetime) -> list[str]:
    """Connections whose scheduled reconciliation is due: none yet, or the last one is old enough."""
    with ctx.units(commit=False) as uow:
        runs = uow.reconciliation_runs
        settings, last, failed = runs.every_hours(), runs.last_started(False), runs.last_started(True)
        due = []
        for connection_id in [c.id for c in uow.directory.connections()]:
            every = settings.get(connection_id, DEFAULT_EVERY_HOURS)
            if every <= 0:
                continue
            previous, failure = last.get(connection_id), failed.get(connection_id)
            if (
                failure is not None
                and (previous is None or failure > previous)
                and failure + RETRY_AFTER > now
            ):
                continue  # Autotask could not be read lately: try again an hour after
            if previous is None or previous + timedelta(hours=every) <= now:
                due.append(connection_id)
        return due


__all__ = ["DRIFT_ALERT", "due_connections", "list_runs", "set_schedule", "store", "store_failure"]
