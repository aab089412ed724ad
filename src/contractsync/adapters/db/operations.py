"""The audit log (`connection_operations`): create records and recompute their status."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db import bulk
from contractsync.adapters.db.sql import one_of
from contractsync.adapters.db.tables import adjustments, connection_operations
from contractsync.ports.outbox import derived_status


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
    actor: str | None = None,
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
                stamped(details, actor),
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


def stamped(details: dict[str, Any] | None, actor: str | None) -> dict[str, Any]:
    """An audit record's details with who made it (`details["actor"]`), when known."""
    details = dict(details or {})
    if actor:
        details["actor"] = actor
    return details


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
    """Derive an operation's status from its outbox rows (see `recompute_statuses`)."""
    return recompute_statuses(session, [operation_id], now, reason)[operation_id]


def recompute_statuses(
    session: Session, operation_ids: Iterable[int], now: datetime, reason: str | None = None
) -> dict[int, str]:
    """Derive operations' statuses from their outbox rows, in three statements however many.

    Any failed row → failed; any open row → pending; all superseded, or done after having
    failed (F1) → superseded; otherwise succeeded. Operations without rows are left alone.
    """
    wanted = sorted(set(operation_ids))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for operation_id, status, n in session.execute(
        select(adjustments.c.operation_id, adjustments.c.status, func.count())
        .where(one_of(session, adjustments.c.operation_id, wanted))
        .group_by(adjustments.c.operation_id, adjustments.c.status)
    ):
        counts[operation_id][str(status)] = int(n)
    answer: dict[int, str] = {}
    changes = []
    for row in session.execute(
        select(
            connection_operations.c.id, connection_operations.c.status, connection_operations.c.reason
        ).where(one_of(session, connection_operations.c.id, wanted))
    ):
        status = derived_status(counts[row.id], str(row.status)) if counts.get(row.id) else str(row.status)
        new_reason = reason if reason is not None and counts.get(row.id) else row.reason
        answer[row.id] = status
        if status != row.status or new_reason != row.reason:
            changes.append({"b_id": row.id, "status": status, "reason": new_reason, "updated_at": now})
    if changes:
        session.connection().execute(
            update(connection_operations).where(connection_operations.c.id == bindparam("b_id")), changes
        )
    return answer
