"""Use case `accept_subscription_suggestions` (X4): map each chosen {subscription_id, contract_id,
service_id, contract_service_id?}; a mapped subscription or contract service is never remapped."""

from __future__ import annotations

from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.map_subscription import map_subscription
from contractsync.service.suggestion_choices import apply_each

JSON = dict[str, Any]
FIELDS = ("subscription_id", "contract_id", "service_id", "contract_service_id")


def accept_subscription_suggestions(
    ctx: ServiceContext, actor: Actor, connection_id: str, chosen: list[JSON]
) -> list[JSON]:
    """Each chosen item answered `mapped` or `refused`. Each mapping stores the Autotask names it
    lacks (`map_subscription`): the first one reads them all, the others find them stored."""

    def apply(item: JSON) -> None:
        body = {k: item[k] for k in FIELDS if item.get(k) is not None}
        map_subscription(ctx, actor, {**body, "connection_id": connection_id})

    return apply_each(chosen, 5000, apply)
