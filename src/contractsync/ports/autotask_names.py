"""Autotask names by connection: companies, contracts and services (a contract service shows the
name of its service), stored so pages need no Autotask call and the names survive a restart."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Protocol

NameKind = Literal["company", "contract", "service"]
NAME_KINDS: tuple[NameKind, ...] = ("company", "contract", "service")


class AutotaskNames(Protocol):
    def names(self, connection_id: str) -> dict[NameKind, dict[int, str]]:
        """Every stored name of the connection, by kind (each kind present, maybe empty)."""
        ...

    def refreshed_at(self, connection_id: str) -> datetime | None:
        """When a name of the connection was last stored (None: never)."""
        ...

    def store(self, connection_id: str, kind: NameKind, names: Mapping[int, str], now: datetime) -> None:
        """Add or rename these; names of other ids stay."""
        ...

    def replace(self, connection_id: str, kind: NameKind, names: Mapping[int, str], now: datetime) -> None:
        """The complete list of the kind as Autotask holds it now: ids no longer there go."""
        ...
