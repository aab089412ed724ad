"""What Autotask holds today for a mapped subscription: one PSA read, no transaction open."""

from __future__ import annotations

from typing import Any

from contractsync.domain.money import format_money
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_subscription

JSON = dict[str, Any]


def autotask_today(ctx: ServiceContext, actor: Actor, subscription_id: str) -> JSON | None:
    """What Autotask holds today for a mapped subscription's contract service (one read, made
    after the database transaction ended): {date, units, unit_price}; None when unmapped."""
    with ctx.units(commit=False) as uow:
        visible_subscription(uow.directory, actor, subscription_id)
        mapping = uow.directory.subscription_mapping(subscription_id)
        connection = None if mapping is None else uow.directory.connection(mapping.connection_id)
    if mapping is None or connection is None:
        return None
    today = ctx.today_in(connection.timezone)
    periods = ctx.connector_for(connection).service_units(mapping.contract_service_id, today, today)
    held = next((p for p in periods if p.start_date <= today <= p.end_date), None)
    return {
        "date": today.isoformat(),
        "units": held.units if held else 0,
        "unit_price": format_money(held.price) if held else None,
    }
