"""Approve a reseller's billing through a date (it may only move forward)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.bounds import check_date
from contractsync.domain.directory_commands import ApproveBilling
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_reseller
from contractsync.service.errors import Invalid

JSON = dict[str, Any]


def approve_billing(
    ctx: ServiceContext, actor: Actor, reseller_id: str, command: ApproveBilling | JSON
) -> JSON:
    """`command`: built by the API from its body, or the API.md body {approved_through}."""
    if not isinstance(command, ApproveBilling):
        command = read_command(command)
    day = command.approved_through
    through = v.check(lambda: check_date(day, "approved_through", ctx.now().date()))
    with ctx.units() as uow:
        row = visible_reseller(uow.directory, actor, reseller_id)
        if row.approved_through is not None and through < row.approved_through:
            raise Invalid(f"approved_through cannot move back from {row.approved_through.isoformat()}")
        uow.directory.approve_billing(reseller_id, through)
        return views.reseller(visible_reseller(uow.directory, actor, reseller_id))


def read_command(body: JSON) -> ApproveBilling:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, {"approved_through"}, set())
    return v.check(lambda: ApproveBilling.build(**body))
