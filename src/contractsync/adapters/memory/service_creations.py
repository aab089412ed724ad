"""The outbox of contract services to create (`ports/service_creations.py`) over dictionaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from contractsync.ports.service_creations import (
    OPEN_CREATIONS,
    CreationStatus,
    NewServiceCreation,
    RecordsOutcomes,
    ServiceCreation,
    initial_state,
)


class _Data(Protocol):
    creations: dict[int, ServiceCreation]


class MemoryServiceCreations(RecordsOutcomes):
    def __init__(self, data: _Data) -> None:
        self.data = data

    def add(self, new: NewServiceCreation, now: datetime, claimed_until: datetime | None = None) -> int:
        creation_id = max(self.data.creations, default=0) + 1
        self.data.creations[creation_id] = ServiceCreation(
            id=creation_id, **vars(new), **initial_state(claimed_until), next_attempt_at=now,
            contract_service_id=None, error=None, error_kind=None, created_at=now, sent_at=None,
        )  # fmt: skip
        return creation_id

    def get(self, creation_id: int) -> ServiceCreation | None:
        return self.data.creations.get(creation_id)

    def open_for(self, subscription_id: str) -> ServiceCreation | None:
        found = [
            c
            for _, c in sorted(self.data.creations.items())
            if c.subscription_id == subscription_id and c.status in OPEN_CREATIONS
        ]
        return found[0] if found else None

    def open_subscription_ids(self, connection_id: str) -> set[str]:
        return {
            c.subscription_id
            for c in self.data.creations.values()
            if c.connection_id == connection_id and c.status in OPEN_CREATIONS
        }

    def due(self, now: datetime, limit: int) -> list[int]:
        return [i for i, c in sorted(self.data.creations.items()) if c.is_due(now)][:limit]

    def claim(self, creation_id: int, now: datetime, lease_until: datetime) -> ServiceCreation | None:
        found = self.data.creations.get(creation_id)
        if found is None or not found.is_due(now):
            return None
        claimed = replace(
            found,
            status=CreationStatus.SENDING.value,
            attempts=found.attempts + 1,
            lease_expires_at=lease_until,
        )
        self.data.creations[creation_id] = claimed
        return claimed

    def renew(self, creation_id: int, attempt: int, lease_until: datetime) -> bool:
        found = self.data.creations.get(creation_id)
        if found is None or found.status != CreationStatus.SENDING or found.attempts != attempt:
            return False
        self.data.creations[creation_id] = replace(found, lease_expires_at=lease_until)
        return True

    def _set(self, creation_id: int, **values: Any) -> None:
        self.data.creations[creation_id] = replace(self.data.creations[creation_id], **values)
