"""The audit log (`connection_operations`): create records and recompute their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db import bulk
from contractsync.adapters.db.records import AdjustmentStatus as A
from contractsync.adapters.db.records import OperationStatus as O
from contractsync.adapters.db.tables import adjustments, connection_operations


def create_operation(
    session: Session,
    *,
    connection_id: str,
    operation_key: str,
    type: str,
    status: str,
    now: datetime,
    subscription_id: str | None = None,
    customer_id: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    effective_date: date | None = None,
) -> int:
    [new_id] = create_operations(
        session,
        [
            NewOperation(
                connection_id,
                operation_key,
                type,
                status,
                subscription_id,
                customer_id,
                reason,
                details,
                effective_date,
            )
        ],
        now,
    )
    return new_id


@dataclass(frozen=True)
class NewOperation:
    connection_id: str
    operation_key: str
    type: str
    status: str
    subscription_id: str | None = None
    customer_id: str | None = None
    reason: str | None = None
    details: dict[str, Any] | None = None
    effective_date: date | None = None


def create_operations(session: Session, records: list[NewOperation], now: datetime) -> list[int]:
    """Insert audit records in one statement; their ids, in the order given."""
    if not records:
        return []
    return bulk.insert_returning_ids(
        session.connection(),
        connection_operations,
        [
            {
                "connection_id": r.connection_id,
                "operation_key": r.operation_key,
                "type": r.type,
                "status": r.status,
                "subscription_id": r.subscription_id,
                "customer_id": r.customer_id,
                "reason": r.reason,
                "details": r.details or {},
                "effective_date": r.effective_date,
                "created_at": now,
                "updated_at": now,
            }
            for r in records
        ],
    )


def add_note(session: Session, operation_id: int, note: str, now: datetime) -> None:
    """Append to details["notes"] (e.g. days that could not be made exact, a send not needed)."""
    details = session.execute(
        select(connection_operations.c.details).where(connection_operations.c.id == operation_id)
    ).scalar_one()
    notes = [*details.get("notes", []), note]
    session.execute(
        update(connection_operations)
        .where(connection_operations.c.id == operation_id)
        .values(details={**details, "notes": notes}, updated_at=now)
    )


def recompute_status(session: Session, operation_id: int, now: datetime, reason: str | None = None) -> str:
    """Derive an operation's status from its outbox rows.

    Any failed row → failed; any open row → pending; all superseded, or done after having
    failed (F1) → superseded; otherwise succeeded. Operations without rows are left alone.
    """
    counts: dict[str, int] = {
        str(status): int(n)
        for status, n in session.execute(
            select(adjustments.c.status, func.count())
            .where(adjustments.c.operation_id == operation_id)
            .group_by(adjustments.c.status)
        ).all()
    }
    current_status, current_reason = session.execute(
        select(connection_operations.c.status, connection_operations.c.reason).where(
            connection_operations.c.id == operation_id
        )
    ).one()
    if not counts:
        return str(current_status)
    if counts.get(A.FAILED):
        status = O.FAILED.value
    elif counts.get(A.PENDING) or counts.get(A.SENDING):
        status = O.PENDING.value
    elif not counts.get(A.SENT) or current_status in (O.FAILED, O.SUPERSEDED):
        status = O.SUPERSEDED.value
    else:
        status = O.SUCCEEDED.value
    new_reason = reason if reason is not None else current_reason
    if status != current_status or new_reason != current_reason:
        session.execute(
            update(connection_operations)
            .where(connection_operations.c.id == operation_id)
            .values(status=status, reason=new_reason, updated_at=now)
        )
    return status
