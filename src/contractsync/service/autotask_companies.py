"""A customer is mapped only to a customer company the PSA has; its name is stored on the way."""

from __future__ import annotations

from contractsync.ports.directory import StoredConnection
from contractsync.service import autotask_names
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid


def require_company(ctx: ServiceContext, connection: StoredConnection, company_id: int) -> str:
    """The customer company's name; Invalid when Autotask has none of that id. The name is stored."""
    found = ctx.connector_for(connection).find_companies(ids=[company_id])
    if not found:
        raise Invalid(f"Autotask has no customer company {company_id} (check the id, or search by name)")
    name = str(found[0].name)
    autotask_names.remember(ctx, connection.id, "company", {company_id: name})
    return name
