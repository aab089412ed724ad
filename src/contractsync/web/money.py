"""Loading each connection's currency for a page (one read)."""

from __future__ import annotations

from starlette.requests import Request

from contractsync.service.actor import Actor
from contractsync.service.errors import ServiceError
from contractsync.web.calls import call
from contractsync.web.context import console_of
from contractsync.web.formatting import Currencies


async def currencies(request: Request, actor: Actor) -> Currencies:
    console = console_of(request)
    try:
        stored = await call(console.service.connection_currencies, actor)
    except ServiceError:
        stored = {}
    return Currencies(console.money.currency, dict(stored))
