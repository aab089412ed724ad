"""Use case `unmap_customer`: the customer's company on a connection is forgotten, recorded in the
audit log. Its subscriptions' mappings stay (they go on syncing with their contract services); the
record says how many there are."""

from __future__ import annotations

from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer
from contractsync.service.customer_mapping_records import (
    current_mapping,
    keeps,
    mapped_subscriptions,
    record_change,
)
from contractsync.service.errors import NotFound

JSON = dict[str, Any]


def unmap_customer(
    ctx: ServiceContext, actor: Actor, customer_id: str, connection_id: str | None = None
) -> JSON:
    """Remove the customer's company on the connection (None: the one it is mapped on); answers the
    audit record."""
    with ctx.units() as uow:
        if connection_id is None:
            found = uow.directory.customer_mapping(visible_customer(uow.directory, actor, customer_id).id)
            if found is None:
                raise NotFound(f"customer {customer_id} is not mapped")
            connection_id = found.connection_id
        mapped = current_mapping(uow, actor, customer_id, connection_id)
        count = mapped_subscriptions(uow, mapped.customer_id, mapped.connection_id)
        uow.directory.remove_customer_mapping(mapped.customer_id, mapped.connection_id)
        company = uow.autotask_names.names(mapped.connection_id)["company"].get(mapped.company_id)
        named = f" ({company})" if company else ""
        reason = f"unmapped from Autotask company {mapped.company_id}{named}; {keeps(count)}"
        return record_change(ctx, uow, actor, mapped, reason)
