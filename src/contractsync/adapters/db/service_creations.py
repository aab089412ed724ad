"""The outbox of contract services to create (`ports/service_creations.py`) in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db.service_creations_table import service_creations
from contractsync.ports.service_creations import (
    OPEN_CREATIONS,
    CreationStatus,
    NewServiceCreation,
    RecordsOutcomes,
    ServiceCreation,
    initial_state,
)

_C = service_creations.c


def _due(now: datetime) -> Any:
    pending = (_C.status == CreationStatus.PENDING.value) & (_C.next_attempt_at <= now)
    lapsed = (_C.status == CreationStatus.SENDING.value) & (
        _C.lease_expires_at.is_(None) | (_C.lease_expires_at <= now)
    )
    return pending | lapsed


def _creation(row: Any) -> ServiceCreation:
    return ServiceCreation(**row._mapping)


class SqlServiceCreations(RecordsOutcomes):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, new: NewServiceCreation, now: datetime, claimed_until: datetime | None = None) -> int:
        values = {**vars(new), **initial_state(claimed_until)}
        query = insert(service_creations).values(**values, next_attempt_at=now, created_at=now)
        return int(self.session.execute(query.returning(_C.id)).scalar_one())

    def get(self, creation_id: int) -> ServiceCreation | None:
        row = self.session.execute(select(service_creations).where(_C.id == creation_id)).first()
        return None if row is None else _creation(row)

    def open_for(self, subscription_id: str) -> ServiceCreation | None:
        query = select(service_creations).where(
            _C.subscription_id == subscription_id, _C.status.in_(OPEN_CREATIONS)
        )
        row = self.session.execute(query.order_by(_C.id)).first()
        return None if row is None else _creation(row)

    def open_subscription_ids(self, connection_id: str) -> set[str]:
        query = select(_C.subscription_id).where(
            _C.connection_id == connection_id, _C.status.in_(OPEN_CREATIONS)
        )
        return set(self.session.execute(query).scalars())

    def due(self, now: datetime, limit: int) -> list[int]:
        query = select(_C.id).where(_due(now)).order_by(_C.id).limit(limit)
        return [int(i) for i in self.session.execute(query).scalars()]

    def claim(self, creation_id: int, now: datetime, lease_until: datetime) -> ServiceCreation | None:
        claimed = self.session.execute(
            update(service_creations)
            .where(_C.id == creation_id, _due(now))
            .values(
                status=CreationStatus.SENDING.value, attempts=_C.attempts + 1, lease_expires_at=lease_until
            )
            .returning(*service_creations.c)
        ).first()
        return None if claimed is None else _creation(claimed)

    def renew(self, creation_id: int, attempt: int, lease_until: datetime) -> bool:
        renewed = self.session.execute(
            update(service_creations)
            .where(
                _C.id == creation_id,
                _C.status == CreationStatus.SENDING.value,
                _C.attempts == attempt,
            )
            .values(lease_expires_at=lease_until)
        )
        return bool(renewed.rowcount)  # type: ignore[attr-defined]

    def _set(self, creation_id: int, **values: Any) -> None:
        self.session.execute(update(service_creations).where(_C.id == creation_id).values(**values))
