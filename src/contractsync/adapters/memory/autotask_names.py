"""The Autotask-names port in memory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from contractsync.ports.autotask_names import NAME_KINDS, NameKind

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemoryAutotaskNames:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def names(self, connection_id: str) -> dict[NameKind, dict[int, str]]:
        found: dict[NameKind, dict[int, str]] = {kind: {} for kind in NAME_KINDS}
        for (connection, kind, key), (name, _) in self.data.autotask_names.items():
            if connection == connection_id:
                found[kind][key] = name
        return found

    def refreshed_at(self, connection_id: str) -> datetime | None:
        return max(
            (at for (c, _, _), (_, at) in self.data.autotask_names.items() if c == connection_id),
            default=None,
        )

    def store(self, connection_id: str, kind: NameKind, names: Mapping[int, str], now: datetime) -> None:
        for key, name in names.items():
            self.data.autotask_names[(connection_id, kind, key)] = (name[:200], now)

    def replace(self, connection_id: str, kind: NameKind, names: Mapping[int, str], now: datetime) -> None:
        stored = self.data.autotask_names
        for gone in [k for k in stored if k[0] == connection_id and k[1] == kind]:
            del stored[gone]
        self.store(connection_id, kind, names, now)
