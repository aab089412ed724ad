"""The outbox of contract services to create in the PSA: a mapping whose contract service does
not exist yet waits here until the PSA has created it (use cases `service/map_subscription.py`,
`service/create_contract_services.py`).

A row is claimed with a lease before the PSA is called (in a transaction that commits first), so
two deliverers never call for it at once; the deliverer renews the lease while its call lasts
(`renew`, a heartbeat), so only a dead deliverer's lease runs out; the call's outcome is then
unknown, and the next attempt looks the contract service up before creating anything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class CreationStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


#: A creation still on its way: its subscription counts as being mapped.
OPEN_CREATIONS = (CreationStatus.PENDING.value, CreationStatus.SENDING.value)


@dataclass(frozen=True)
class NewServiceCreation:
    #: the audit record of the mapping (pending until the contract service exists)
    operation_id: int
    connection_id: str
    subscription_id: str
    contract_id: int
    service_id: int
    unit_price: Decimal
    unit_cost: Decimal


@dataclass(frozen=True)
class ServiceCreation(NewServiceCreation):
    """A stored creation: what was asked (the fields above), and where its delivery stands."""

    id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    lease_expires_at: datetime | None
    contract_service_id: int | None
    error: str | None
    error_kind: str | None
    created_at: datetime
    sent_at: datetime | None

    def is_due(self, now: datetime) -> bool:
        """Pending past its back-off, or `sending` under a lease that ran out (outcome unknown)."""
        if self.status == CreationStatus.SENDING:
            return self.lease_expires_at is None or self.lease_expires_at <= now
        return self.status == CreationStatus.PENDING and self.next_attempt_at <= now


class ServiceCreations(Protocol):
    def add(self, new: NewServiceCreation, now: datetime, claimed_until: datetime | None = None) -> int:
        """Enqueue, due at once; answers the new row's id. With `claimed_until` the row is added as
        `claim` leaves it (sending, its first attempt, leased until then): the caller delivers it,
        no worker takes it before the lease ends."""
        ...

    def get(self, creation_id: int) -> ServiceCreation | None: ...

    def open_for(self, subscription_id: str) -> ServiceCreation | None:
        """The subscription's creation still on its way (pending or sending), if any."""
        ...

    def open_subscription_ids(self, connection_id: str) -> set[str]:
        """The subscriptions whose contract service is being created on the connection (pending
        or sending): mapped as soon as it is, so no suggestion offers them again meanwhile."""
        ...

    def due(self, now: datetime, limit: int) -> list[int]:
        """Ids of the rows due at `now`, oldest first."""
        ...

    def claim(self, creation_id: int, now: datetime, lease_until: datetime) -> ServiceCreation | None:
        """The row goes `sending` under a lease until `lease_until` (one more attempt); None
        when it is not due (another deliverer holds it, or it is done)."""
        ...

    def renew(self, creation_id: int, attempt: int, lease_until: datetime) -> bool:
        """Claim number `attempt` of the row (its `attempts` when claimed) keeps it until
        `lease_until`; False when that claim is over: its outcome was recorded, or its lease ran
        out and another deliverer claimed the row."""
        ...

    def record_sent(self, creation_id: int, contract_service_id: int, now: datetime) -> None: ...

    def record_retry(self, creation_id: int, error: str, kind: str, next_attempt_at: datetime) -> None:
        """Back to pending, due again at `next_attempt_at`."""
        ...

    def record_failed(self, creation_id: int, error: str, kind: str) -> None: ...


def initial_state(claimed_until: datetime | None) -> dict[str, Any]:
    """A new row's state (`ServiceCreations.add`): pending, or claimed for its first attempt."""
    if claimed_until is None:
        return {"status": CreationStatus.PENDING.value, "attempts": 0, "lease_expires_at": None}
    return {"status": CreationStatus.SENDING.value, "attempts": 1, "lease_expires_at": claimed_until}


def sent_changes(contract_service_id: int, now: datetime) -> dict[str, Any]:
    """The fields `record_sent` sets (both repositories apply the same changes)."""
    return {
        "status": CreationStatus.SENT.value,
        "contract_service_id": contract_service_id,
        "sent_at": now,
        "lease_expires_at": None,
        "error": None,
        "error_kind": None,
    }


def retry_changes(error: str, kind: str, next_attempt_at: datetime) -> dict[str, Any]:
    return {
        "status": CreationStatus.PENDING.value,
        "next_attempt_at": next_attempt_at,
        "lease_expires_at": None,
        "error": error,
        "error_kind": kind,
    }


def failed_changes(error: str, kind: str) -> dict[str, Any]:
    return {
        "status": CreationStatus.FAILED.value,
        "lease_expires_at": None,
        "error": error,
        "error_kind": kind,
    }


class RecordsOutcomes:
    """`record_sent`, `record_retry` and `record_failed` of a repository, over its `_set`."""

    def _set(self, creation_id: int, **values: Any) -> None:
        raise NotImplementedError

    def record_sent(self, creation_id: int, contract_service_id: int, now: datetime) -> None:
        self._set(creation_id, **sent_changes(contract_service_id, now))

    def record_retry(self, creation_id: int, error: str, kind: str, next_attempt_at: datetime) -> None:
        self._set(creation_id, **retry_changes(error, kind, next_attempt_at))

    def record_failed(self, creation_id: int, error: str, kind: str) -> None:
        self._set(creation_id, **failed_changes(error, kind))
