"""Use case `remap_customer`: a mapped customer moves to another customer company the PSA has,
recorded in the audit log; a company mapped to another customer is refused. Subscription
mappings stay."""

from __future__ import annotations

from typing import Any

from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.autotask_companies import require_company
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.customer_mapping_records import (
    current_mapping,
    keeps,
    mapped_subscriptions,
    record_change,
)
from contractsync.service.errors import Conflict

JSON = dict[str, Any]


def remap_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """body {customer_id, connection_id, company_id}; answers the audit record."""
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    company_id = v.integer(body["company_id"], "company_id", 1, 2**31 - 1)
    customer_id = v.text(body["customer_id"], "customer_id", 100)
    connection_id = v.text(body["connection_id"], "connection_id", 100)
    with ctx.units(commit=False) as uow:
        current_mapping(uow, actor, customer_id, connection_id)
        connection = visible_connection(uow.directory, actor, connection_id)
    name = require_company(ctx, connection, company_id)
    with ctx.units() as uow:
        mapped = current_mapping(uow, actor, customer_id, connection_id)
        if mapped.company_id == company_id:
            raise Conflict(f"customer {customer_id} is already mapped to Autotask company {company_id}")
        holder = next(
            (m for m in uow.directory.customer_mappings_of(connection_id) if m.company_id == company_id), None
        )
        if holder is not None:
            raise Conflict(
                f"Autotask company {company_id} is already mapped to customer {holder.customer_id}"
            )
        uow.directory.move_customer_mapping(customer_id, connection_id, company_id)
        count = mapped_subscriptions(uow, customer_id, connection_id)
        reason = (
            f"remapped from Autotask company {mapped.company_id} to {company_id} ({name}); {keeps(count)}"
        )
        return record_change(ctx, uow, actor, mapped, reason)
