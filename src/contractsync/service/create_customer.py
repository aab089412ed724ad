"""Create a customer of a reseller, with its provider margins."""

from __future__ import annotations

from typing import Any

from contractsync.domain.model import Customer
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer, visible_reseller
from contractsync.service.directory_queries import customer_view
from contractsync.service.errors import Invalid
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]


def create_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, {"id", "reseller_id", "name"}, {"tenant_id", "provider_margins"})
    margins = body.get("provider_margins") or {}
    if not isinstance(margins, dict):
        raise Invalid("provider_margins must be an object of provider → percent")
    customer = Customer(
        id=v.text(body["id"], "id", 100),
        reseller_id=v.text(body["reseller_id"], "reseller_id", 100),
        name=v.text(body["name"], "name", 300),
        tenant_id=v.optional_text(body.get("tenant_id"), "tenant_id", 100),
        provider_margins={
            v.text(k, "provider", 50): v.decimal(m, f"provider_margins.{k}", "-100", "1000")
            for k, m in margins.items()
        },
    )
    with ctx.units() as uow:
        visible_reseller(uow.directory, actor, customer.reseller_id)
        require_new(uow.directory.add_customer(customer), "customer", customer.id)
        return customer_view(uow, visible_customer(uow.directory, actor, customer.id))
