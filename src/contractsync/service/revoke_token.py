"""Admin only: a token stops working (and the console sessions it signed in end)."""

from __future__ import annotations

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, require_admin
from contractsync.service.errors import NotFound
from contractsync.service.token_authority import TokenAuthority


def revoke_token(ctx: ServiceContext, authority: TokenAuthority, actor: Actor, token_id: int) -> None:
    """The token stops working at once in this process (within CACHE_SECONDS elsewhere) and
    the console sessions it signed in end."""
    require_admin(actor)
    with ctx.units() as uow:
        if uow.api_tokens.token(token_id) is None:
            raise NotFound(f"token {token_id} not found")
        uow.api_tokens.remove([token_id])
    authority.forget()
