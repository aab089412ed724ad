"""CONTRACTSYNC_ADMIN_TOKEN: registered; the earlier ones from the environment retired."""

from __future__ import annotations

from contractsync.service.context import ServiceContext
from contractsync.service.create_token import create_token
from contractsync.service.errors import Invalid
from contractsync.service.token_authority import TokenAuthority
from contractsync.service.tokens import SOURCE_ENVIRONMENT, check_token_value, token_hash


def register_admin_token(ctx: ServiceContext, authority: TokenAuthority, token: str) -> None:
    """CONTRACTSYNC_ADMIN_TOKEN: registered, and every earlier token from the environment is
    retired (with the console sessions it signed in), so changing the variable rotates it."""
    try:
        check_token_value(token)
    except Invalid as refused:
        raise Invalid(f"CONTRACTSYNC_ADMIN_TOKEN: {refused.message}") from None
    create_token(ctx, None, token, source=SOURCE_ENVIRONMENT)
    with ctx.units() as uow:
        ids = uow.api_tokens.ids_from(SOURCE_ENVIRONMENT, token_hash(token))
        uow.api_tokens.remove(ids)
    if ids:
        authority.forget()
