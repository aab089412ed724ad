"""Admin only: the API tokens, never their values."""

from __future__ import annotations

from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, require_admin
from contractsync.service.tokens import token_view

JSON = dict[str, Any]


def list_tokens(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    require_admin(actor)
    with ctx.units(commit=False) as uow:
        rows = uow.api_tokens.listed()
    return [token_view(row) for row in rows]
