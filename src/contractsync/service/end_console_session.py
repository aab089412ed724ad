"""Sign out of the console: the session ends."""

from __future__ import annotations

from contractsync.service.console_session_policy import session_key
from contractsync.service.context import ServiceContext


def end_console_session(ctx: ServiceContext, secret: str) -> None:
    if not secret:
        return
    with ctx.units() as uow:
        uow.console_sessions.remove(session_key(secret))
