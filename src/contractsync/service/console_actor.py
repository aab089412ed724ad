"""Who a console session's secret signs in, while the session lives (it ends when it ran out)."""

from __future__ import annotations

from datetime import timedelta

from contractsync.service.actor import Actor
from contractsync.service.console_session_policy import SEEN_EVERY, session_key
from contractsync.service.context import ServiceContext
from contractsync.service.end_console_session import end_console_session
from contractsync.service.tokens import token_name


def console_actor(ctx: ServiceContext, secret: str) -> Actor | None:
    """The signed-in actor of a live session; None when it ended, ran out or never existed."""
    if not secret or len(secret) > 200:
        return None
    key = session_key(secret)
    now = ctx.now()
    with ctx.units(commit=False) as uow:
        row = uow.console_sessions.find(key)
        token = None if row is None else uow.api_tokens.token(row.token_id)
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + timedelta(seconds=row.idle_seconds) <= now:
        end_console_session(ctx, secret)
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        with ctx.units() as uow:
            uow.console_sessions.seen(key, now)
    who = (token.name if token is not None else None) or token_name(row.token_id)
    return Actor(row.reseller_id, f"console ({who})")
