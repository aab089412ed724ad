"""Create a customer of a reseller, with its provider margins."""

from __future__ import annotations

from typing import Any

from contractsync.domain.directory_commands import CreateCustomer
from contractsync.domain.model import Customer
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer, visible_reseller
from contractsync.service.directory_queries import customer_view
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]


def create_customer(ctx: ServiceContext, actor: Actor, command: CreateCustomer | JSON) -> JSON:
    """`command`: built by the API from its body, or the API.md body itself."""
    if not isinstance(command, CreateCustomer):
        command = read_command(command)
    customer = Customer(
        id=command.id,
        reseller_id=command.reseller_id,
        name=command.name,
        tenant_id=command.tenant_id,
        provider_margins=dict(command.provider_margins),
    )
    with ctx.units() as uow:
        visible_reseller(uow.directory, actor, customer.reseller_id)
        require_new(uow.directory.add_customer(customer), "customer", customer.id)
        return customer_view(uow, visible_customer(uow.directory, actor, customer.id))


def read_command(body: JSON) -> CreateCustomer:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, {"id", "reseller_id", "name"}, {"tenant_id", "provider_margins"})
    return v.check(lambda: CreateCustomer.build(**body))
