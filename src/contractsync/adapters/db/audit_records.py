"""The audit-records port in SQL: the log of connection operations, their adjustments, manual actions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db.operations import NewOperation, create_operations
from contractsync.adapters.db.sql import one_of
from contractsync.adapters.db.tables import adjustments, connection_operations, connections, manual_actions
from contractsync.ports.audit_records import (
    AdjustmentLine,
    AuditRecord,
    ManualAction,
    NewRecord,
    RecordFilter,
    RecordSummary,
)
from contractsync.ports.psa import Refusal


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        connection_id=row.connection_id,
        subscription_id=row.subscription_id,
        customer_id=row.customer_id,
        operation_key=row.operation_key,
        type=row.type,
        status=row.status,
        reason=row.reason,
        effective_date=row.effective_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
        details=row.details or {},
    )


def _adjustment(row: Any) -> AdjustmentLine:
    return AdjustmentLine(
        id=row.id,
        operation_id=row.operation_id,
        connection_id=row.connection_id,
        subscription_id=row.subscription_id,
        contract_id=row.contract_id,
        contract_service_id=row.contract_service_id,
        effective_date=row.effective_date,
        target_units=row.target_units,
        planned_unit_change=row.planned_unit_change,
        sent_unit_change=row.sent_unit_change,
        unit_price=row.unit_price,
        unit_cost=row.unit_cost,
        status=row.status,
        attempts=row.attempts,
        error=row.error,
        due_at=row.due_at,
        sent_at=row.sent_at,
        posted_period_refused=row.status == "failed" and row.refusal == Refusal.POSTED_PERIOD.value,
    )


def _manual_action(row: Any) -> ManualAction:
    return ManualAction(
        id=row.id,
        connection_id=row.connection_id,
        operation_id=row.operation_id,
        subscription_id=row.subscription_id,
        contract_service_id=row.contract_service_id,
        effective_date=row.effective_date,
        unit_change=row.unit_change,
        instruction=row.instruction,
        status=row.status,
        created_at=row.created_at,
    )


def _connections_of(reseller_id: str) -> Any:
    return select(connections.c.id).where(connections.c.reseller_id == reseller_id)


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _searched(query: Any, where: RecordFilter) -> Any:
    """The console search's filters: customer, part of the subscription id, recorded days."""
    c = connection_operations.c
    if where.customer_id is not None:
        query = query.where(c.customer_id == where.customer_id)
    if where.subscription_part is not None:
        query = query.where(func.lower(c.subscription_id).like(_like(where.subscription_part), escape="\\"))
    if where.recorded_from is not None:
        query = query.where(c.created_at >= where.recorded_from)
    if where.recorded_before is not None:
        query = query.where(c.created_at < where.recorded_before)
    return query


class SqlAuditRecords:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: NewRecord, now: datetime) -> int:
        [record_id] = create_operations(self.session, [NewOperation(**vars(record))], now)
        return record_id

    def settle(
        self,
        record_id: int,
        status: str,
        reason: str | None,
        now: datetime,
        effective_date: date | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "reason": reason, "updated_at": now}
        if effective_date is not None:
            values["effective_date"] = effective_date
        self.session.execute(
            update(connection_operations).where(connection_operations.c.id == record_id).values(**values)
        )

    def page(self, where: RecordFilter, offset: int, limit: int) -> tuple[int, list[AuditRecord]]:
        query = select(connection_operations)
        if where.reseller_id is not None:
            query = query.where(connection_operations.c.connection_id.in_(_connections_of(where.reseller_id)))
        if where.subscription_id is not None:
            query = query.where(connection_operations.c.subscription_id == where.subscription_id)
        if where.status is not None:
            query = query.where(connection_operations.c.status == where.status)
        if where.type is not None:
            query = query.where(connection_operations.c.type == where.type)
        query = _searched(query, where)
        total = self.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.session.execute(
            query.order_by(connection_operations.c.id.desc()).offset(offset).limit(limit)
        )
        return int(total), [_record(r) for r in rows]

    def record(self, record_id: int) -> AuditRecord | None:
        row = self.session.execute(
            select(connection_operations).where(connection_operations.c.id == record_id)
        ).first()
        return None if row is None else _record(row)

    def records(self, record_ids: Iterable[int]) -> list[AuditRecord]:
        ids = list(record_ids)
        if not ids:
            return []
        query = select(connection_operations).where(one_of(self.session, connection_operations.c.id, ids))
        return [_record(r) for r in self.session.execute(query)]

    def summaries(self, record_ids: Iterable[int]) -> list[RecordSummary]:
        ids = list(record_ids)
        if not ids:
            return []
        c = connection_operations.c
        query = select(c.id, c.type, c.status, c.subscription_id, c.reason, c.effective_date).where(
            c.id.in_(ids)
        )
        return [
            RecordSummary(r.id, r.type, r.status, r.subscription_id, r.reason, r.effective_date)
            for r in self.session.execute(query)
        ]

    def adjustments(self, record_ids: Iterable[int]) -> list[AdjustmentLine]:
        ids = list(record_ids)
        if not ids:
            return []
        query = (
            select(adjustments)
            .where(one_of(self.session, adjustments.c.operation_id, ids))
            .order_by(adjustments.c.id)
        )
        return [_adjustment(r) for r in self.session.execute(query)]

    def open_manual_actions(self, reseller_id: str | None = None) -> list[ManualAction]:
        query = (
            select(manual_actions)
            .where(manual_actions.c.status == "open")
            .order_by(manual_actions.c.id.desc())
        )
        if reseller_id is not None:
            query = query.where(manual_actions.c.connection_id.in_(_connections_of(reseller_id)))
        return [_manual_action(r) for r in self.session.execute(query)]
