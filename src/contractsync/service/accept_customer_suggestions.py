"""Use case `accept_customer_suggestions` (X4): map each chosen {customer_id, company_id} to a
company the PSA has; a mapping is never overwritten (a mapped customer or company is refused)."""

from __future__ import annotations

from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.map_customer_to_company import map_customer_to_company
from contractsync.service.suggestion_choices import apply_each

JSON = dict[str, Any]


def accept_customer_suggestions(
    ctx: ServiceContext, actor: Actor, connection_id: str, chosen: list[JSON]
) -> list[JSON]:
    """Each chosen item answered `mapped` or `refused` with the reason."""
    return apply_each(
        chosen,
        2000,
        lambda item: map_customer_to_company(ctx, actor, {**item, "connection_id": connection_id}),
    )
