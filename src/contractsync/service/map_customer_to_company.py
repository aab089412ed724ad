"""Use case `map_customer_to_company` (the console, X4): `map_customer`, after checking through the
connector that the customer company exists (its name is stored and answered)."""

from __future__ import annotations

from typing import Any

from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.autotask_companies import require_company
from contractsync.service.context import ServiceContext, read_connection
from contractsync.service.map_customer import map_customer

JSON = dict[str, Any]


def map_customer_to_company(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """body {customer_id, connection_id, company_id}: the audit record with `company_name`."""
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    company_id = v.integer(body["company_id"], "company_id", 1, 2**31 - 1)
    connection = read_connection(ctx, actor, v.text(body["connection_id"], "connection_id", 100))
    name = require_company(ctx, connection, company_id)
    record = map_customer(ctx, actor, {**body, "company_id": company_id})
    return record | {"company_name": name}
