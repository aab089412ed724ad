"""Use case `map_customer_to_company` (the console, X4): `map_customer`, after checking through the
connector that the customer company exists (its name is stored and answered)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.mapping_commands import MapCustomer
from contractsync.service.actor import Actor
from contractsync.service.autotask_companies import require_company
from contractsync.service.context import ServiceContext, read_connection
from contractsync.service.map_customer import map_customer, read_command

JSON = dict[str, Any]


def map_customer_to_company(ctx: ServiceContext, actor: Actor, command: MapCustomer | JSON) -> JSON:
    """A `MapCustomer`, or its body {customer_id, connection_id, company_id}: the audit record
    with `company_name`."""
    if not isinstance(command, MapCustomer):
        command = read_command(command)
    connection = read_connection(ctx, actor, command.connection_id)
    name = require_company(ctx, connection, command.company_id)
    record = map_customer(ctx, actor, command)
    return record | {"company_name": name}
