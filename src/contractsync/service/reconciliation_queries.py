"""Queries of the reconciliation runs: a connection's latest runs with its schedule, and which
connections a scheduled reconciliation is due for."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contractsync.ports.reconciliation_runs import DEFAULT_EVERY_HOURS, FIX, Schedule
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.errors import Invalid
from contractsync.service.reconcile_runs import RETRY_AFTER, run_view

JSON = dict[str, Any]


def list_runs(ctx: ServiceContext, actor: Actor, connection_id: str, limit: int = 50) -> JSON:
    if not 1 <= limit <= 500:
        raise Invalid("limit must be between 1 and 500")
    with ctx.units(commit=False) as uow:
        visible_connection(uow.directory, actor, connection_id)
        rows = uow.reconciliation_runs.latest(connection_id, limit)
        schedule = uow.reconciliation_runs.schedule(connection_id)
    return {
        "connection_id": connection_id,
        "schedule": schedule_view(schedule),
        "items": [run_view(r) for r in rows],
    }


def schedule_view(schedule: Schedule) -> JSON:
    every_hours = schedule.every_hours
    return {"every_hours": every_hours, "enabled": every_hours > 0, "currency": schedule.currency}


def due_connections(ctx: ServiceContext, now: datetime) -> list[str]:
    """Connections whose scheduled reconciliation is due: none yet, the last one is old enough, or
    the last one was a fix whose corrections have all left the outbox (`_fix_landed`)."""
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
            if (
                previous is None
                or previous + timedelta(hours=every) <= now
                or _fix_landed(uow, connection_id)
            ):
                due.append(connection_id)
        return due


def _fix_landed(uow: UnitOfWork, connection_id: str) -> bool:
    """The connection's latest run fixed drift, and nothing of the subscriptions it corrected is
    on its way to Autotask any more: read again what Autotask now holds. The drift alert the fix
    raised then ends within a minute of the corrections landing instead of at the next daily run,
    and whatever the fix could not see (an adjustment by hand that Autotask's rows do not show
    until a correction before it lands) is reported then, not a day later."""
    runs = uow.reconciliation_runs.latest(connection_id, 1)
    latest = runs[0].run if runs else None
    if latest is None or latest.trigger != FIX or latest.error is not None or not latest.drifting:
        return False
    for subscription_id in latest.drifting:
        mapping = uow.directory.subscription_mapping(subscription_id)
        if mapping is not None and uow.ledger.in_flight(connection_id, mapping.contract_service_id):
            return False
    return True
