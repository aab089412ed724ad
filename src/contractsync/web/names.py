"""Autotask names beside the ids on a page (as the façade stores them per connection)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from contractsync.service.actor import Actor
from contractsync.service.errors import ServiceError
from contractsync.web.calls import call
from contractsync.web.context import console_of

EMPTY: dict[str, dict[int, str]] = {"companies": {}, "contracts": {}, "services": {}}


async def autotask_names(
    request: Request, actor: Actor, connection_ids: Iterable[Any], shown: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """connection id → {companies, contracts, services} (id → name), as stored; empty names when
    none is stored and Autotask cannot be read. `shown`: the mappings and suggestions on the page
    ({connection_id, contract_id, service_id, company_id}), whose ids are read from Autotask when
    they have no stored name yet."""
    wanted: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {"company": [], "contract": [], "service": []}
    )
    for item in shown:
        for kind in ("company", "contract", "service"):
            if isinstance(item.get(f"{kind}_id"), int):
                wanted[str(item.get("connection_id"))][kind].append(item[f"{kind}_id"])
    found: dict[str, Any] = {}
    for connection_id in sorted({c for c in connection_ids if isinstance(c, str)}):
        try:
            found[connection_id] = await call(
                console_of(request).service.autotask_names,
                actor,
                connection_id,
                False,
                wanted.get(connection_id),
            )
        except ServiceError:
            found[connection_id] = EMPTY
    return found
