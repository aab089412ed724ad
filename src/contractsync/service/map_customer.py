"""Use case `map_customer`: a customer mapped to a PSA company on a connection of its reseller
(the company is taken as given; `map_customer_to_company` checks it in the PSA first)."""

from __future__ import annotations

from typing import Any

from contractsync.ports.directory import CustomerMapping
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection, visible_customer
from contractsync.service.customer_mapping_records import record_change
from contractsync.service.errors import Conflict, NotFound

JSON = dict[str, Any]


def map_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """body {customer_id, connection_id, company_id}; answers the audit record."""
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    company_id = v.integer(body["company_id"], "company_id", 1, 2**31 - 1)
    with ctx.units() as uow:
        customer = visible_customer(uow.directory, actor, str(body["customer_id"]))
        connection = visible_connection(uow.directory, actor, str(body["connection_id"]))
        if connection.reseller_id != customer.reseller_id:
            raise NotFound(f"connection {connection.id} not found")
        mapped = CustomerMapping(customer.id, connection.id, company_id)
        if not uow.directory.add_customer_mapping(mapped):
            raise Conflict("the customer, or the company, is already mapped on this connection")
        return record_change(ctx, uow, actor, mapped, f"mapped to Autotask company {company_id}")
