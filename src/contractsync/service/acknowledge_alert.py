"""Someone has seen an alert (X5)."""

from __future__ import annotations

from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.alerting import alert_view
from contractsync.service.context import ServiceContext
from contractsync.service.errors import NotFound

JSON = dict[str, Any]


def acknowledge_alert(ctx: ServiceContext, actor: Actor, alert_id: int) -> JSON:
    """Someone has seen the alert; it stays listed (open) until its condition ends."""
    with ctx.units() as uow:
        if uow.alerts.alert(alert_id, actor.reseller_id) is None:
            raise NotFound(f"alert {alert_id} not found")
        by = "admin" if actor.reseller_id is None else f"reseller:{actor.reseller_id}"
        uow.alerts.acknowledge(alert_id, ctx.now(), by)
        found = uow.alerts.alert(alert_id, None)
        assert found is not None
        return alert_view(found)
