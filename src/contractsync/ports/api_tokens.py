"""API tokens as stored: the SHA-256 of each token, never the token itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredToken:
    id: int
    token_hash: str
    reseller_id: str | None  # None: an admin token
    created_at: datetime
    source: str | None  # environment | generated | cli | api; None: before migration 0008
    hint: str | None  # its first characters
    expires_at: datetime | None
    last_used_at: datetime | None
    name: str | None  # the audit log's actor; None: before migration 0013, or not given


@dataclass(frozen=True)
class NewToken:
    token_hash: str
    reseller_id: str | None
    created_at: datetime
    source: str
    hint: str
    expires_at: datetime | None = None
    name: str | None = None


class ApiTokens(Protocol):
    def add(self, token: NewToken) -> int | None:
        """Store it; answers its id, or None when its hash or name is taken (a concurrent create
        won the race between the look-up and this insert)."""
        ...

    def by_hash(self, token_hash: str) -> StoredToken | None: ...

    def token(self, token_id: int) -> StoredToken | None: ...

    def named(self, name: str) -> StoredToken | None: ...

    def listed(self) -> list[StoredToken]:
        """Every token, by id."""
        ...

    def set_source(self, token_id: int, source: str, hint: str) -> None: ...

    def used(self, token_id: int, now: datetime) -> None: ...

    def ids_from(self, source: str, keep_hash: str) -> list[int]:
        """The tokens from `source` other than the one whose hash is `keep_hash`."""
        ...

    def remove(self, token_ids: Iterable[int]) -> None:
        """The tokens and the console sessions they signed in."""
        ...
