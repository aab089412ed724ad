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
from typing import Any

from sqlalchemy import func, select

from contractsync.adapters.db import reconciliation_facts
from contractsync.adapters.db.reconciliation_facts import ConnectionRecords
from contractsync.adapters.db.reconciliation_tables import (
    DEFAULT_EVERY_HOURS,
    reconciliation_runs,
    reconciliation_settings,
)
from contractsync.adapters.db.tables import connections
from contractsync.domain.money import format_money
from contractsync.domain.reconciliation import KINDS, Difference, Kind
from contractsync.service import alerting, views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid
from contractsync.service.session_compat import visible_connection

JSON = dict[str, Any]
DRIFT_ALERT = "reconciliation_drift"
#: after a run that could not read Autotask, the next scheduled attempt waits this long
RETRY_AFTER = timedelta(hours=1)


def store(
    ctx: ServiceContext,
    records: ConnectionRecords,
    report: JSON,
    differences: list[Difference],
    started: datetime,
    trigger: str,
) -> int:
    drifting = sorted({d.subscription_id for d in differences if d.kind is Kind.DRIFT})
    counts = {kind.value: sum(1 for d in differences if d.kind is kind) for kind in KINDS}
    with ctx.unit_of_work() as uow:
        run_id = uow.session.execute(
            reconciliation_runs.insert()
            .values(
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
            .returning(reconciliation_runs.c.id)
        ).scalar_one()
        if drifting:
            message = (
                f"reconciliation of connection {records.connection_id} found drift on "
                f"{len(drifting)} subscription(s): {', '.join(drifting[:10])}{' …' if len(drifting) > 10 else ''}"
            )
            alerting.raise_alert(uow.alerts, DRIFT_ALERT, message, records.connection_id, None, ctx.now())
        else:
            alerting.resolve(uow.alerts, DRIFT_ALERT, records.connection_id, None, ctx.now())
    return int(run_id)


def store_failure(
    ctx: ServiceContext, records: ConnectionRecords, checked: int, started: datetime, trigger: str, error: str
) -> None:
    """A run that could not read Autotask is stored too, with the reason."""
    with ctx.unit_of_work() as uow:
        uow.session.execute(
            reconciliation_runs.insert().values(
                connection_id=records.connection_id, trigger=trigger, started_at=started, finished_at=ctx.now(),
                services_checked=checked, reads=0, differences={}, money_impact=Decimal(0),
                currency=records.currency, drifting=[], error=f"Autotask could not be read: {error}",
            )
        )  # fmt: skip


def run_view(row: Any) -> JSON:
    return {
        "id": row.id,
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
    with ctx.unit_of_work(commit=False) as uow:
        visible_connection(uow.session, actor, connection_id)
        rows = uow.session.execute(
            select(reconciliation_runs)
            .where(reconciliation_runs.c.connection_id == connection_id)
            .order_by(reconciliation_runs.c.id.desc())
            .limit(limit)
        ).all()
        every_hours, currency = reconciliation_facts.settings_of(uow.session, connection_id)
    return {
        "connection_id": connection_id,
        "schedule": _schedule(every_hours, currency),
        "items": [run_view(r) for r in rows],
    }


def _schedule(every_hours: int, currency: str) -> JSON:
    return {"every_hours": every_hours, "enabled": every_hours > 0, "currency": currency}


def set_schedule(ctx: ServiceContext, actor: Actor, connection_id: str, body: JSON) -> JSON:
    """`{every_hours?: 0..8760 (0 = off), currency?: "EUR"}` for one connection."""
    with ctx.unit_of_work() as uow:
        visible_connection(uow.session, actor, connection_id)
        every_hours, currency = reconciliation_facts.settings_of(uow.session, connection_id)
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
        table = reconciliation_settings
        exists = uow.session.execute(
            select(table.c.connection_id).where(table.c.connection_id == connection_id)
        )
        if exists.first() is None:
            uow.session.execute(
                table.insert().values(connection_id=connection_id, every_hours=every_hours, currency=currency)
            )
        else:
            uow.session.execute(
                table.update()
                .where(table.c.connection_id == connection_id)
                .values(every_hours=every_hours, currency=currency)
            )
    return {"connection_id": connection_id, "schedule": _schedule(every_hours, currency)}


def due_connections(ctx: ServiceContext, now: datetime) -> list[str]:
    """Connections whose scheduled reconciliation is due: none yet, or the last one is old enough."""
    with ctx.unit_of_work(commit=False) as uow:
        session = uow.session
        settings = {r.connection_id: r.every_hours for r in session.execute(select(reconciliation_settings))}
        runs = reconciliation_runs.c
        latest = select(runs.connection_id, func.max(runs.started_at)).group_by(runs.connection_id)
        last = dict(session.execute(latest.where(runs.error.is_(None))).all())
        failed = dict(session.execute(latest.where(runs.error.is_not(None))).all())
        due = []
        for (connection_id,) in session.execute(select(connections.c.id).order_by(connections.c.id)):
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
