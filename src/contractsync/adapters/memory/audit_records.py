"""The audit-records port in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from contractsync.ports.audit_records import (
    AdjustmentLine,
    AuditRecord,
    ManualAction,
    NewRecord,
    RecordFilter,
    RecordSummary,
)

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


def _contains(value: str | None, part: str | None) -> bool:
    """As SQL's LIKE '%part%' on lower case: NULL never matches."""
    return part is None or (value is not None and part.lower() in value.lower())


class MemoryAuditRecords:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, record: NewRecord, now: datetime) -> int:
        record_id = max(self.data.records, default=0) + 1
        self.data.records[record_id] = AuditRecord(
            id=record_id, created_at=now, updated_at=now, **{**vars(record), "details": dict(record.details)}
        )
        return record_id

    def settle(
        self,
        record_id: int,
        status: str,
        reason: str | None,
        now: datetime,
        effective_date: date | None = None,
    ) -> None:
        found = self.data.records.get(record_id)
        if found is not None:
            effective = found.effective_date if effective_date is None else effective_date
            self.data.records[record_id] = replace(
                found, status=status, reason=reason, effective_date=effective, updated_at=now
            )

    def _of_reseller(self, connection_id: str, reseller_id: str | None) -> bool:
        connection = self.data.connections.get(connection_id)
        return reseller_id is None or (connection is not None and connection.reseller_id == reseller_id)

    def page(self, where: RecordFilter, offset: int, limit: int) -> tuple[int, list[AuditRecord]]:
        found = [
            r
            for _, r in sorted(self.data.records.items(), reverse=True)
            if self._of_reseller(r.connection_id, where.reseller_id)
            and where.subscription_id in (None, r.subscription_id)
            and where.status in (None, r.status)
            and where.type in (None, r.type)
            and where.customer_id in (None, r.customer_id)
            and _contains(r.subscription_id, where.subscription_part)
            and (where.recorded_from is None or r.created_at >= where.recorded_from)
            and (where.recorded_before is None or r.created_at < where.recorded_before)
        ]
        return len(found), found[offset : offset + limit]

    def record(self, record_id: int) -> AuditRecord | None:
        return self.data.records.get(record_id)

    def records(self, record_ids: Iterable[int]) -> list[AuditRecord]:
        return [self.data.records[i] for i in set(record_ids) if i in self.data.records]

    def summaries(self, record_ids: Iterable[int]) -> list[RecordSummary]:
        return [
            RecordSummary(r.id, r.type, r.status, r.subscription_id, r.reason, r.effective_date)
            for r in self.records(record_ids)
        ]

    def adjustments(self, record_ids: Iterable[int]) -> list[AdjustmentLine]:
        wanted = set(record_ids)
        return [a for _, a in sorted(self.data.adjustments.items()) if a.operation_id in wanted]

    def open_manual_actions(self, reseller_id: str | None = None) -> list[ManualAction]:
        return [
            a
            for _, a in sorted(self.data.manual_actions.items(), reverse=True)
            if a.status == "open" and self._of_reseller(a.connection_id, reseller_id)
        ]
