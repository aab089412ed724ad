"""Server-side console sessions: signing in with an API token opens one, signing out, the idle
timeout, the absolute lifetime or revoking the token ends it.

The browser holds a random session secret (in the signed cookie); the database holds its hash.
`last_seen_at` moves at most once a minute, so an idle timeout is exact to the minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from contractsync.ports.console_sessions import ConsoleSession
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.tokens import TokenAuthority, token_name

SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = 30 * 60
    max_seconds: int = 12 * 3600


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(
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
                id_hash=_hash(secret),
                token_id=principal.token_id,
                reseller_id=principal.actor.reseller_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
                idle_seconds=policy.idle_seconds,
            )
        )
    return secret, principal.actor


def actor(ctx: ServiceContext, secret: str) -> Actor | None:
    """The signed-in actor of a live session; None when it ended, ran out or never existed."""
    if not secret or len(secret) > 200:
        return None
    key = _hash(secret)
    now = ctx.now()
    with ctx.units(commit=False) as uow:
        row = uow.console_sessions.find(key)
        token = None if row is None else uow.api_tokens.token(row.token_id)
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + timedelta(seconds=row.idle_seconds) <= now:
        end(ctx, secret)
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        with ctx.units() as uow:
            uow.console_sessions.seen(key, now)
    who = (token.name if token is not None else None) or token_name(row.token_id)
    return Actor(row.reseller_id, f"console ({who})")


def end(ctx: ServiceContext, secret: str) -> None:
    if not secret:
        return
    with ctx.units() as uow:
        uow.console_sessions.remove(_hash(secret))
