"""The X5 alert of a daily sweep that failed (`sweep_failed`, one per connection and date).

The worker's scheduler runs each connection's sweep once a day and, when it raises, leaves that
day's run unfinished and does not retry it by itself (`delivery/scheduler.py`): renewals and
expiries of that day are then not applied. That must not stay in a log line: the failure raises
this alert, and a sweep of that date that succeeds for the connection (the next scheduled one
does not repeat it; `contractsync sweep --date D` or `POST /v1/sweeps` does) resolves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import alerting
from contractsync.service.context import ServiceContext

SWEEP_FAILED = "sweep_failed"


def sweep_failed(ctx: ServiceContext, connection_id: str, day: date, error: str) -> None:
    message = (
        f"the daily sweep of connection {connection_id} for {day.isoformat()} failed: {error}; renewals "
        f"and expiries of that day are not applied until it runs again (`contractsync sweep --date "
        f"{day.isoformat()}`, or POST /v1/sweeps)"
    )
    with ctx.units() as uow:
        alerting.raise_alert(
            uow.alerts, SWEEP_FAILED, message, connection_id, None, ctx.now(), detail=day.isoformat()
        )


def sweep_done(ctx: ServiceContext, uow: UnitOfWork, connection_ids: Iterable[str], day: date) -> None:
    """(In the caller's unit of work.) The sweep of `day` succeeded for these connections."""
    for connection_id in connection_ids:
        alerting.resolve(uow.alerts, SWEEP_FAILED, connection_id, None, ctx.now(), detail=day.isoformat())
