"""Console sessions, kept server-side: the store holds the hash of each session secret only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ConsoleSession:
    id_hash: str
    token_id: int
    reseller_id: str | None  # None: signed in with an admin token
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_seconds: int


class ConsoleSessions(Protocol):
    def add(self, session: ConsoleSession) -> None: ...

    def find(self, id_hash: str) -> ConsoleSession | None:
        """The session, while the token that signed it in exists."""
        ...

    def seen(self, id_hash: str, now: datetime) -> None: ...

    def remove(self, id_hash: str) -> None: ...

    def remove_expired(self, now: datetime) -> None:
        """Sessions whose absolute lifetime ended by `now`."""
        ...
