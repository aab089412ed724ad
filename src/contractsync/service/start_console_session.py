"""Sign in to the console with an API token: a new server-side session."""

from __future__ import annotations

import secrets
from datetime import timedelta

from contractsync.ports.console_sessions import ConsoleSession
from contractsync.service.actor import Actor
from contractsync.service.console_session_policy import SessionPolicy, session_key
from contractsync.service.context import ServiceContext
from contractsync.service.token_authority import TokenAuthority


def start_console_session(
    ctx: ServiceContext, tokens: TokenAuthority, token: str, policy: SessionPolicy
) -> tuple[str, Actor]:
    """Authenticate `token` (Unauthorized when unknown) and open a session; answers its secret."""
    principal = tokens.principal(token)
    secret = secrets.token_urlsafe(32)
    now = ctx.now()
    expires = now + timedelta(seconds=policy.max_seconds)
    if principal.expires_at is not None:
        expires = min(expires, principal.expires_at)
    with ctx.units() as uow:
        # Sessions that ran out are removed as new ones start: the table stays small by itself.
        uow.console_sessions.remove_expired(now)
        uow.console_sessions.add(
            ConsoleSession(
                id_hash=session_key(secret),
                token_id=principal.token_id,
                reseller_id=principal.actor.reseller_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
                idle_seconds=policy.idle_seconds,
            )
        )
    return secret, principal.actor
