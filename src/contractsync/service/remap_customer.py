"""Use case `remap_customer`: a mapped customer moves to another customer company the PSA has,
recorded in the audit log; a company mapped to another customer is refused. Subscription
mappings stay."""

from __future__ import annotations

from typing import Any

from contractsync.domain.mapping_commands import RemapCustomer
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


def remap_customer(ctx: ServiceContext, actor: Actor, command: RemapCustomer | JSON) -> JSON:
    """A `RemapCustomer`, or its body {customer_id, connection_id, company_id}; answers the audit
    record."""
    if not isinstance(command, RemapCustomer):
        command = read_command(command)
    company_id, customer_id, connection_id = command.company_id, command.customer_id, command.connection_id
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


def read_command(body: JSON) -> RemapCustomer:
    """The body {customer_id, connection_id, company_id} as the command, read by the same rules."""
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    return v.check(lambda: RemapCustomer.build(**body))
