"""The API-tokens port in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contractsync.adapters.db.sessions_table import console_sessions
from contractsync.adapters.db.tables import api_tokens
from contractsync.ports.api_tokens import NewToken, StoredToken


def _token(row: Any) -> StoredToken | None:
    return None if row is None else StoredToken(**row._mapping)


class SqlApiTokens:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: NewToken) -> int | None:
        try:
            with self.session.begin_nested():
                statement = insert(api_tokens).values(**vars(token)).returning(api_tokens.c.id)
                return int(self.session.scalars(statement).one())
        except IntegrityError:
            return None

    def _one(self, where: Any) -> StoredToken | None:
        return _token(self.session.execute(select(api_tokens).where(where)).first())

    def by_hash(self, token_hash: str) -> StoredToken | None:
        return self._one(api_tokens.c.token_hash == token_hash)

    def token(self, token_id: int) -> StoredToken | None:
        return self._one(api_tokens.c.id == token_id)

    def named(self, name: str) -> StoredToken | None:
        return self._one(api_tokens.c.name == name)

    def listed(self) -> list[StoredToken]:
        return [
            StoredToken(**r._mapping)
            for r in self.session.execute(select(api_tokens).order_by(api_tokens.c.id))
        ]

    def set_source(self, token_id: int, source: str, hint: str) -> None:
        self.session.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(source=source, hint=hint)
        )

    def used(self, token_id: int, now: datetime) -> None:
        self.session.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))

    def ids_from(self, source: str, keep_hash: str) -> list[int]:
        found = select(api_tokens.c.id).where(
            api_tokens.c.source == source, api_tokens.c.token_hash != keep_hash
        )
        return sorted(self.session.scalars(found))

    def remove(self, token_ids: Iterable[int]) -> None:
        ids = list(token_ids)
        if ids:
            self.session.execute(delete(console_sessions).where(console_sessions.c.token_id.in_(ids)))
            self.session.execute(delete(api_tokens).where(api_tokens.c.id.in_(ids)))
