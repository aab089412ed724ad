"""API tokens: random, shown once, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import insert, select

from contractsync.adapters.db.tables import api_tokens, resellers
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import NotFound, Unauthorized


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ctx: ServiceContext, reseller_id: str | None, token: str | None = None) -> str:
    """A new token (or register a given one, e.g. CONTRACTSYNC_ADMIN_TOKEN). None: an admin token."""
    token = token or f"cs_{secrets.token_urlsafe(32)}"
    with ctx.unit_of_work() as uow:
        if (
            reseller_id is not None
            and uow.session.execute(select(resellers.c.id).where(resellers.c.id == reseller_id)).first()
            is None
        ):
            raise NotFound(f"reseller {reseller_id} not found")
        exists = uow.session.execute(
            select(api_tokens.c.id).where(api_tokens.c.token_hash == token_hash(token))
        ).first()
        if exists is None:
            uow.session.execute(
                insert(api_tokens).values(
                    token_hash=token_hash(token), reseller_id=reseller_id, created_at=ctx.now()
                )
            )
    return token


def authenticate(ctx: ServiceContext, token: str) -> Actor:
    if not token:
        raise Unauthorized("a bearer token is required")
    with ctx.unit_of_work(commit=False) as uow:
        row = uow.session.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash(token))
        ).first()
    if row is None:
        raise Unauthorized("unknown token")
    return Actor(row.reseller_id)
