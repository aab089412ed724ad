"""Resellers, connections, customers and subscriptions: the reads (lists, one subscription)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.model import Customer
from contractsync.ports.directory import SYNC_BADGES
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_subscription
from contractsync.service.errors import Invalid

JSON = dict[str, Any]


def list_resellers(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        return [views.reseller(r) for r in uow.directory.resellers(actor.reseller_id)]


def list_connections(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        paused = uow.directory.pauses()
        return [views.connection(r, paused.get(r.id)) for r in uow.directory.connections(actor.reseller_id)]


def customer_view(uow: UnitOfWork, customer: Customer) -> JSON:
    return views.customer(customer, uow.directory.customer_mapping(customer.id))


def list_customers(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        return [customer_view(uow, c) for c in uow.directory.customers(actor.reseller_id)]


def subscription_view(uow: UnitOfWork, actor: Actor, subscription_id: str) -> JSON:
    directory = uow.directory
    stored = visible_subscription(directory, actor, subscription_id)
    customer, reseller = (
        directory.customer(stored.value.customer_id),
        directory.reseller(stored.value.reseller_id),
    )
    assert customer is not None and reseller is not None  # foreign keys
    facts = views.SubscriptionFacts(
        customer,
        reseller,
        directory.subscription_mapping(subscription_id),
        directory.sync_badge(subscription_id),
        directory.open_manual_actions(subscription_id),
    )
    return views.subscription(stored, facts)


def get_subscription(ctx: ServiceContext, actor: Actor, subscription_id: str) -> JSON:
    with ctx.units(commit=False) as uow:
        return subscription_view(uow, actor, subscription_id)


def list_subscriptions(
    ctx: ServiceContext, actor: Actor, customer_id: str | None, state: str | None, page: int, page_size: int
) -> JSON:
    if state is not None and state not in SYNC_BADGES:
        raise Invalid(f"sync_state must be one of {', '.join(sorted(SYNC_BADGES))}")
    if page < 1 or not 1 <= page_size <= 200:
        raise Invalid("page must be ≥ 1 and page_size between 1 and 200")
    with ctx.units(commit=False) as uow:
        ids = uow.directory.subscription_ids(actor.reseller_id, customer_id)
        items = [subscription_view(uow, actor, i) for i in ids]
        if state is not None:
            items = [item for item in items if item["sync_state"] == state]
        start = (page - 1) * page_size
        return {
            "items": items[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": len(items),
        }
