"""Plain records the repositories hand out (rows of the outbox and the ledger)."""

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

    @classmethod
    def from_row(cls, row: Any) -> Adjustment:
        return cls(**{name: row._mapping[name] for name in cls.__dataclass_fields__})


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
