"""Use case `set_reconciliation_schedule`: how often a connection is reconciled by the worker
(0 = never) and in which currency its money impact is told."""

from __future__ import annotations

from typing import Any

from contractsync.domain.commands import SetReconciliationSchedule
from contractsync.ports.reconciliation_runs import Schedule
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.reconciliation_queries import schedule_view

JSON = dict[str, Any]


def set_reconciliation_schedule(
    ctx: ServiceContext, actor: Actor, command: SetReconciliationSchedule | JSON
) -> JSON:
    """A `SetReconciliationSchedule`, or its body {connection_id, every_hours?: 0..8760 (0 = off),
    currency?: "EUR"}; what is not given is kept."""
    if not isinstance(command, SetReconciliationSchedule):
        command = read_command(command)
    connection_id = command.connection_id
    with ctx.units() as uow:
        visible_connection(uow.directory, actor, connection_id)
        schedule = uow.reconciliation_runs.schedule(connection_id)
        schedule = Schedule(
            schedule.every_hours if command.every_hours is None else command.every_hours,
            schedule.currency if command.currency is None else command.currency,
        )
        uow.reconciliation_runs.set_schedule(connection_id, schedule)
    return {"connection_id": connection_id, "schedule": schedule_view(schedule)}


def read_command(body: JSON) -> SetReconciliationSchedule:
    """The body {connection_id, every_hours?, currency?} as the command, read by the same rules."""
    v.fields(body, {"connection_id"}, {"every_hours", "currency"})
    return v.check(lambda: SetReconciliationSchedule.build(**body))
