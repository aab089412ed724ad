"""The alerts in a state, the derived ones brought up to date first (raised or resolved)."""

from __future__ import annotations

from typing import Any

from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service.actor import Actor
from contractsync.service.alerting import alert_view, budget_usage, customer_label, refresh
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid

JSON = dict[str, Any]
STATES = ("open", "acknowledged", "resolved", "all")


def list_alerts(ctx: ServiceContext, actor: Actor, state: str = "open") -> list[JSON]:
    """Alerts in a state: `open` (unresolved, acknowledged or not), `acknowledged`, `resolved`, `all`."""
    if state not in STATES:
        raise Invalid(f"state must be one of {', '.join(STATES)}")
    usage = budget_usage(ctx)
    with ctx.units() as uow:
        _refresh(ctx, uow, usage)
        return [alert_view(a) for a in uow.alerts.listed(actor.reseller_id, state)]


def refresh_alerts(ctx: ServiceContext) -> None:
    """Bring the derived alerts up to date without listing them: the worker does it every minute,
    so that stored alerts (and `/metrics`' count of them) are current when nobody looks."""
    usage = budget_usage(ctx)
    with ctx.units() as uow:
        _refresh(ctx, uow, usage)


def _refresh(ctx: ServiceContext, uow: UnitOfWork, usage: dict[str, float]) -> None:
    refresh(ctx, uow.alerts, usage, customer_label(uow), uow.api_tokens.listed())
