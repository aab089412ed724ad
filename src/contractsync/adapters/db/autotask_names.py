"""The Autotask-names port in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contractsync.adapters.db.bulk import upsert_rows
from contractsync.adapters.db.names_table import autotask_names
from contractsync.ports.autotask_names import NAME_KINDS, NameKind

_KEY = ("connection_id", "entity", "entity_id")


class SqlAutotaskNames:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self, connection_id: str) -> dict[NameKind, dict[int, str]]:
        found: dict[NameKind, dict[int, str]] = {kind: {} for kind in NAME_KINDS}
        rows = self.session.execute(
            select(autotask_names.c.entity, autotask_names.c.entity_id, autotask_names.c.name).where(
                autotask_names.c.connection_id == connection_id
            )
        )
        for row in rows:
            if row.entity in found:
                found[row.entity][row.entity_id] = row.name
        return found

    def refreshed_at(self, connection_id: str) -> datetime | None:
        latest: datetime | None = self.session.scalar(
            select(func.max(autotask_names.c.refreshed_at)).where(
                autotask_names.c.connection_id == connection_id
            )
        )
        return latest

    def store(self, connection_id: str, kind: NameKind, names: Mapping[int, str], now: datetime) -> None:
        rows = [
            {
                "connection_id": connection_id,
                "entity": kind,
                "entity_id": key,
                "name": name[:200],
                "refreshed_at": now,
            }
            for key, name in sorted(names.items())
        ]
        upsert_rows(self.session.connection(), autotask_names, rows, _KEY)

    def replace(self, connection_id: str, kind: NameKind, names: Mapping[int, str], now: datetime) -> None:
        self.session.execute(
            delete(autotask_names).where(
                autotask_names.c.connection_id == connection_id, autotask_names.c.entity == kind
            )
        )
        self.store(connection_id, kind, names, now)
