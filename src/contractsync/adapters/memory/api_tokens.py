"""The API-tokens port in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from contractsync.ports.api_tokens import NewToken, StoredToken

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemoryApiTokens:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, token: NewToken) -> int | None:
        if self.by_hash(token.token_hash) is not None or (token.name and self.named(token.name)):
            return None  # as the unique indexes refuse it
        token_id = max(self.data.tokens, default=0) + 1
        self.data.tokens[token_id] = StoredToken(id=token_id, last_used_at=None, **vars(token))
        return token_id

    def by_hash(self, token_hash: str) -> StoredToken | None:
        return next((t for t in self.data.tokens.values() if t.token_hash == token_hash), None)

    def token(self, token_id: int) -> StoredToken | None:
        return self.data.tokens.get(token_id)

    def named(self, name: str) -> StoredToken | None:
        return next((t for t in self.data.tokens.values() if t.name == name), None)

    def listed(self) -> list[StoredToken]:
        return [self.data.tokens[k] for k in sorted(self.data.tokens)]

    def _change(self, token_id: int, **values: object) -> None:
        if token_id in self.data.tokens:
            self.data.tokens[token_id] = replace(self.data.tokens[token_id], **values)  # type: ignore[arg-type]

    def set_source(self, token_id: int, source: str, hint: str) -> None:
        self._change(token_id, source=source, hint=hint)

    def used(self, token_id: int, now: datetime) -> None:
        self._change(token_id, last_used_at=now)

    def ids_from(self, source: str, keep_hash: str) -> list[int]:
        return sorted(
            t.id for t in self.data.tokens.values() if t.source == source and t.token_hash != keep_hash
        )

    def remove(self, token_ids: Iterable[int]) -> None:
        ids = set(token_ids)
        for key in [k for k, s in self.data.console_sessions.items() if s.token_id in ids]:
            del self.data.console_sessions[key]
        for token_id in ids:
            self.data.tokens.pop(token_id, None)
