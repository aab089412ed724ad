"""Approve a reseller's billing through a date (it may only move forward)."""

from __future__ import annotations

from typing import Any

from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_reseller
from contractsync.service.errors import Invalid

JSON = dict[str, Any]


def approve_billing(ctx: ServiceContext, actor: Actor, reseller_id: str, body: JSON) -> JSON:
    v.fields(body, {"approved_through"}, set())
    through = v.day(body["approved_through"], "approved_through", ctx.now().date())
    with ctx.units() as uow:
        row = visible_reseller(uow.directory, actor, reseller_id)
        if row.approved_through is not None and through < row.approved_through:
            raise Invalid(f"approved_through cannot move back from {row.approved_through.isoformat()}")
        uow.directory.approve_billing(reseller_id, through)
        return views.reseller(visible_reseller(uow.directory, actor, reseller_id))
