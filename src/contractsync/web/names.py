"""Autotask names beside the ids on a page (through the façade's short-lived name cache)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from contractsync.service.actor import Actor
from contractsync.service.errors import ServiceError
from contractsync.web.calls import call
from contractsync.web.context import console_of

EMPTY: dict[str, dict[int, str]] = {"companies": {}, "contracts": {}, "services": {}}


async def autotask_names(request: Request, actor: Actor, connection_ids: Iterable[Any]) -> dict[str, Any]:
    """connection id → {companies, contracts, services} (id → name); empty names when unreadable."""
    found: dict[str, Any] = {}
    for connection_id in sorted({c for c in connection_ids if isinstance(c, str)}):
        try:
            found[connection_id] = await call(
                console_of(request).service.autotask_names, actor, connection_id
            )
        except ServiceError:
            found[connection_id] = EMPTY
    return found
