"""The console-sessions port in memory (tokens are not kept here: every session's token exists)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from contractsync.ports.console_sessions import ConsoleSession

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemoryConsoleSessions:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, session: ConsoleSession) -> None:
        self.data.console_sessions[session.id_hash] = session

    def find(self, id_hash: str) -> ConsoleSession | None:
        return self.data.console_sessions.get(id_hash)

    def seen(self, id_hash: str, now: datetime) -> None:
        sessions = self.data.console_sessions
        if id_hash in sessions:
            sessions[id_hash] = replace(sessions[id_hash], last_seen_at=now)

    def remove(self, id_hash: str) -> None:
        self.data.console_sessions.pop(id_hash, None)

    def remove_expired(self, now: datetime) -> None:
        sessions = self.data.console_sessions
        for key in [k for k, s in sessions.items() if s.expires_at <= now]:
            del sessions[key]
