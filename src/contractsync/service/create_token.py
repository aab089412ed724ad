"""A new API token, or one the operator chose, registered (stored hashed)."""

from __future__ import annotations

import secrets
from datetime import datetime

from contractsync.ports.api_tokens import NewToken
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid, NotFound
from contractsync.service.tokens import (
    HINT_LENGTH,
    SOURCE_CLI,
    check_token_name,
    check_token_value,
    name_taken,
    token_hash,
)


def create_token(
    ctx: ServiceContext,
    reseller_id: str | None,
    token: str | None = None,
    *,
    source: str = SOURCE_CLI,
    expires_at: datetime | None = None,
    name: str | None = None,
) -> str:
    """A new token (or register a given one). None: an admin token. `name` is who the audit
    log says used it (unique). Registering a token that exists already changes nothing
    (except giving a token from before migration 0008 its source)."""
    if token is None:
        token = f"cs_{secrets.token_urlsafe(32)}"
    else:
        check_token_value(token)
    if name is not None:
        name = check_token_name(name)
    if expires_at is not None and expires_at <= ctx.now():
        raise Invalid("the expiry must be in the future")
    with ctx.units() as uow:
        if reseller_id is not None and uow.directory.reseller(reseller_id) is None:
            raise NotFound(f"reseller {reseller_id} not found")
        exists = uow.api_tokens.by_hash(token_hash(token))
        if exists is not None and exists.source is None:
            # Registered before tokens had a source (migration 0008): now we know it.
            uow.api_tokens.set_source(exists.id, source, token[:HINT_LENGTH])
        if exists is None:
            if name is not None and uow.api_tokens.named(name) is not None:
                raise name_taken(name)
            added = uow.api_tokens.add(
                NewToken(
                    token_hash=token_hash(token),
                    reseller_id=reseller_id,
                    created_at=ctx.now(),
                    source=source,
                    hint=token[:HINT_LENGTH],
                    expires_at=expires_at,
                    name=name,
                )
            )
            # Lost a race with a concurrent create: the same token (e.g. two processes
            # registering CONTRACTSYNC_ADMIN_TOKEN) is there now; else the name was taken.
            if added is None and uow.api_tokens.by_hash(token_hash(token)) is None:
                raise name_taken(name)
    return token
