"""The console-sessions port in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db.sessions_table import console_sessions
from contractsync.adapters.db.tables import api_tokens
from contractsync.ports.console_sessions import ConsoleSession


class SqlConsoleSessions:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, session: ConsoleSession) -> None:
        self.session.execute(insert(console_sessions).values(**vars(session)))

    def find(self, id_hash: str) -> ConsoleSession | None:
        row = self.session.execute(
            select(console_sessions)
            .join(api_tokens, api_tokens.c.id == console_sessions.c.token_id)
            .where(console_sessions.c.id_hash == id_hash)
        ).first()
        return None if row is None else ConsoleSession(**row._mapping)

    def seen(self, id_hash: str, now: datetime) -> None:
        self.session.execute(
            update(console_sessions).where(console_sessions.c.id_hash == id_hash).values(last_seen_at=now)
        )

    def remove(self, id_hash: str) -> None:
        self.session.execute(delete(console_sessions).where(console_sessions.c.id_hash == id_hash))

    def remove_expired(self, now: datetime) -> None:
        self.session.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
