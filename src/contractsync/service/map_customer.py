"""Use case `map_customer`: a customer mapped to a PSA company on a connection of its reseller
(the company is taken as given; `map_customer_to_company` checks it in the PSA first)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.mapping_commands import MapCustomer
from contractsync.ports.directory import CustomerMapping
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection, visible_customer
from contractsync.service.customer_mapping_records import record_change
from contractsync.service.errors import Conflict, NotFound

JSON = dict[str, Any]


def map_customer(ctx: ServiceContext, actor: Actor, command: MapCustomer | JSON) -> JSON:
    """A `MapCustomer`, or its body {customer_id, connection_id, company_id}; answers the audit record."""
    if not isinstance(command, MapCustomer):
        command = read_command(command)
    company_id = command.company_id
    with ctx.units() as uow:
        customer = visible_customer(uow.directory, actor, command.customer_id)
        connection = visible_connection(uow.directory, actor, command.connection_id)
        if connection.reseller_id != customer.reseller_id:
            raise NotFound(f"connection {connection.id} not found")
        mapped = CustomerMapping(customer.id, connection.id, company_id)
        if not uow.directory.add_customer_mapping(mapped):
            raise Conflict("the customer, or the company, is already mapped on this connection")
        return record_change(ctx, uow, actor, mapped, f"mapped to Autotask company {company_id}")


def read_command(body: JSON) -> MapCustomer:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    return v.check(lambda: MapCustomer.build(**body))
