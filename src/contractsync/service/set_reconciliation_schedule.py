"""Use case `set_reconciliation_schedule`: how often a connection is reconciled by the worker
(0 = never) and in which currency its money impact is told."""

from __future__ import annotations

from typing import Any

from contractsync.ports.reconciliation_runs import Schedule
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.errors import Invalid
from contractsync.service.reconciliation_queries import schedule_view

JSON = dict[str, Any]


def set_reconciliation_schedule(ctx: ServiceContext, actor: Actor, connection_id: str, body: JSON) -> JSON:
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
    return {"connection_id": connection_id, "schedule": schedule_view(schedule)}
