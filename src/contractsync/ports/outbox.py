"""Plain records of the outbox and the ledger, as the repositories hand them out and the worker
and the use cases take them (built from a row by `from_row`: any object with a `_mapping`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class AdjustmentStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


#: Rows still to be delivered; they block later rows of the same contract service.
OPEN_STATUSES = (AdjustmentStatus.PENDING.value, AdjustmentStatus.SENDING.value)
#: Rows that make a subscription out of sync.
UNSYNCED_STATUSES = (*OPEN_STATUSES, AdjustmentStatus.FAILED.value)


class OperationStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"


def derived_status(counts: dict[str, int], current: str) -> str:
    """A record's status from how many of its outbox rows are in each status: any failed row →
    failed; any open row → pending; all superseded, or done after having failed (F1) →
    superseded; otherwise succeeded."""
    if counts.get(AdjustmentStatus.FAILED):
        return OperationStatus.FAILED.value
    if counts.get(AdjustmentStatus.PENDING) or counts.get(AdjustmentStatus.SENDING):
        return OperationStatus.PENDING.value
    if not counts.get(AdjustmentStatus.SENT) or current in (
        OperationStatus.FAILED,
        OperationStatus.SUPERSEDED,
    ):
        return OperationStatus.SUPERSEDED.value
    return OperationStatus.SUCCEEDED.value


@dataclass(frozen=True)
class NewAdjustment:
    """An outbox row to enqueue: the target state of a contract service from a date on."""

    operation_id: int
    connection_id: str
    subscription_id: str | None
    contract_id: int
    contract_service_id: int
    effective_date: date
    target_units: int
    unit_price: Decimal
    unit_cost: Decimal
    due_at: datetime
    planned_unit_change: int | None = None


@dataclass(frozen=True)
class Adjustment:
    id: int
    operation_id: int
    connection_id: str
    subscription_id: str | None
    contract_id: int
    contract_service_id: int
    effective_date: date
    target_units: int
    unit_price: Decimal
    unit_cost: Decimal
    planned_unit_change: int | None
    status: str
    due_at: datetime
    next_attempt_at: datetime
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    sent_unit_change: int | None
    autotask_id: int | None
    error: str | None
    error_kind: str | None
    created_at: datetime
    sent_at: datetime | None
    #: the typed reason of a refusal (`contractsync.ports.psa.Refusal`), if Autotask refused it
    refusal: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> Adjustment:
        return cls(**{name: row._mapping[name] for name in cls.__dataclass_fields__})

    def is_due(self, now: datetime) -> bool:
        """Pending past its settle and back-off times, or `sending` under an expired lease (the
        worker died mid-call: the outcome is unknown)."""
        if self.status == AdjustmentStatus.SENDING:
            return self.lease_expires_at is None or self.lease_expires_at < now
        return self.due_at <= now and self.next_attempt_at <= now


@dataclass(frozen=True)
class LedgerEntry:
    """One adjustment Autotask holds for a contract service (from our sends or a verified read)."""

    effective_date: date
    unit_change: int
    unit_price: Decimal
    unit_cost: Decimal
    autotask_id: int | None
    adjustment_id: int | None

    @classmethod
    def from_row(cls, row: Any) -> LedgerEntry:
        return cls(**{name: row._mapping[name] for name in cls.__dataclass_fields__})
