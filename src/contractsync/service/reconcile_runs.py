"""Stored reconciliation runs and the X5 drift alert (the schedule: `set_reconciliation_schedule`;
the runs listed and the connections due: `reconciliation_queries`).

Every reconciliation (scheduled by the worker, or on demand) is stored: when, services checked,
Autotask reads, differences by kind, money impact, and which subscriptions drift. Drift raises
one `reconciliation_drift` alert per connection; a run without drift resolves it.
A connection is reconciled every `every_hours` (default 24; 0 = never) by the worker; a run that
could not read Autotask is stored with its error, raises a `reconciliation_failed` alert (until
a run succeeds nothing is checked: a person must know) and is tried again an hour later; the
next run that reads Autotask resolves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from contractsync.domain.money import format_money
from contractsync.domain.reconciliation import KINDS, Difference, Kind
from contractsync.ports.reconciliation_runs import RunResult, StoredRun
from contractsync.service import alerting, views
from contractsync.service.context import ServiceContext

JSON = dict[str, Any]
DRIFT_ALERT = "reconciliation_drift"
FAILED_ALERT = "reconciliation_failed"
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
        alerting.resolve(uow.alerts, FAILED_ALERT, records.connection_id, None, ctx.now())
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
    """A run that could not read Autotask is stored too, with the reason, and raises its alert."""
    run = RunResult(
        connection_id=records.connection_id, trigger=trigger, started_at=started, finished_at=ctx.now(),
        services_checked=checked, reads=0, money_impact=Decimal(0), currency=records.currency,
        error=f"Autotask could not be read: {error}",
    )  # fmt: skip
    message = (
        f"reconciliation of connection {records.connection_id} could not read Autotask: {error}; "
        f"nothing is checked until a run succeeds (tried again in an hour)"
    )
    with ctx.units() as uow:
        uow.reconciliation_runs.add(run)
        alerting.raise_alert(uow.alerts, FAILED_ALERT, message, records.connection_id, None, ctx.now())


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


__all__ = ["DRIFT_ALERT", "FAILED_ALERT", "run_view", "store", "store_failure"]
