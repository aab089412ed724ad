"""The audit log as the use cases read it: records, their adjustments, manual actions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class AuditRecord:
    """One record of the audit log (a connection operation)."""

    id: int
    connection_id: str
    subscription_id: str | None
    customer_id: str | None
    operation_key: str
    type: str
    status: str
    reason: str | None
    effective_date: date | None
    created_at: datetime
    updated_at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AdjustmentLine:
    """One adjustment of a record, as the log shows it."""

    id: int
    operation_id: int
    connection_id: str
    subscription_id: str | None
    contract_id: int
    contract_service_id: int
    effective_date: date
    target_units: int
    planned_unit_change: int | None
    sent_unit_change: int | None
    unit_price: Decimal
    unit_cost: Decimal
    status: str
    attempts: int
    error: str | None
    due_at: datetime
    sent_at: datetime | None
    #: the PSA refused it because the period it falls in was posted already
    posted_period_refused: bool = False


@dataclass(frozen=True)
class RecordSummary:
    id: int
    type: str
    status: str
    subscription_id: str | None
    reason: str | None
    effective_date: date | None


@dataclass(frozen=True)
class ManualAction:
    id: int
    connection_id: str
    operation_id: int
    subscription_id: str
    contract_service_id: int | None
    effective_date: date
    unit_change: int
    instruction: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class RecordFilter:
    """Which records a page of the log holds; `reseller_id` None: every reseller's."""

    reseller_id: str | None = None
    subscription_id: str | None = None
    status: str | None = None
    type: str | None = None
    customer_id: str | None = None
    #: part of the subscription id, in any case (the console's search)
    subscription_part: str | None = None
    #: recorded at or after / before these instants
    recorded_from: datetime | None = None
    recorded_before: datetime | None = None


@dataclass(frozen=True)
class NewRecord:
    """A record written whole (a mapping change): no adjustments."""

    connection_id: str
    operation_key: str
    type: str
    status: str
    customer_id: str | None = None
    subscription_id: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    effective_date: date | None = None


class AuditRecords(Protocol):
    def add(self, record: NewRecord, now: datetime) -> int:
        """Store the record; answers its id."""
        ...

    def settle(
        self,
        record_id: int,
        status: str,
        reason: str | None,
        now: datetime,
        effective_date: date | None = None,
    ) -> None:
        """A record written earlier gets its outcome (a mapping that waited for its contract
        service): status and reason, and its effective date when given."""
        ...

    def page(self, where: RecordFilter, offset: int, limit: int) -> tuple[int, list[AuditRecord]]:
        """(how many match, the records from `offset`), newest first."""
        ...

    def record(self, record_id: int) -> AuditRecord | None: ...

    def records(self, record_ids: Iterable[int]) -> list[AuditRecord]:
        """The records of these ids, in any order (unknown ids are left out)."""
        ...

    def summaries(self, record_ids: Iterable[int]) -> list[RecordSummary]:
        """Records without their details, in any order (for answers about thousands of records)."""
        ...

    def adjustments(self, record_ids: Iterable[int]) -> list[AdjustmentLine]:
        """The adjustments of these records, by id."""
        ...

    def open_manual_actions(self, reseller_id: str | None = None) -> list[ManualAction]:
        """Open manual actions (of one reseller's connections), newest first."""
        ...
