"""Server-side console sessions: signing in with an API token opens one, signing out, the idle
timeout, the absolute lifetime or revoking the token ends it.

The browser holds a random session secret (in the signed cookie); the database holds its hash
(`session_key`). `last_seen_at` moves at most once a minute, so an idle timeout is exact to the
minute. The use cases: `start_console_session`, `console_actor`, `end_console_session`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = 30 * 60
    max_seconds: int = 12 * 3600


def session_key(secret: str) -> str:
    """What the database holds of a session secret: its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()
