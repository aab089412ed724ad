"""F1 retry: a failed operation's failed rows go back to pending, while that is still safe.

It is safe only while no later adjustment of the same contract service has been sent: that
later one already carries the net effect (and the failed row is about to be superseded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from contractsync.adapters.db.outbox_rows import AdjustmentStatus, OperationStatus
from contractsync.adapters.db.tables import adjustments, connection_operations

_later = aliased(adjustments)  # rows of the same service sent after the failed one


class RetryRefused(Exception):
    """The operation cannot be retried; the message says why."""


@dataclass(frozen=True)
class RetryResult:
    operation_id: int
    requeued: list[int]


def retry(session: Session, operation_id: int, now: datetime) -> RetryResult:
    status = session.execute(
        select(connection_operations.c.status)
        .where(connection_operations.c.id == operation_id)
        .with_for_update()
    ).scalar_one_or_none()
    if status is None:
        raise RetryRefused(f"operation {operation_id} does not exist")
    if status != OperationStatus.FAILED:
        raise RetryRefused(f"operation {operation_id} is {status}; only failed operations can be retried")
    failed = session.execute(
        select(adjustments.c.id, adjustments.c.connection_id, adjustments.c.contract_service_id).where(
            adjustments.c.operation_id == operation_id, adjustments.c.status == AdjustmentStatus.FAILED
        )
    ).all()
    if not failed:
        raise RetryRefused(
            f"operation {operation_id} has no adjustment to retry (nothing was planned for Autotask)"
        )
    for row_id, connection_id, service in failed:
        blocker = session.execute(
            select(_later.c.id)
            .where(
                _later.c.connection_id == connection_id,
                _later.c.contract_service_id == service,
                _later.c.status == AdjustmentStatus.SENT,
                _later.c.id > row_id,
            )
            .limit(1)
        ).scalar_one_or_none()
        if blocker is not None:
            raise RetryRefused(
                f"adjustment {blocker} for contract service {service} was sent after this one failed; "
                "it already carries the net effect, so this operation cannot be retried"
            )
    ids = [row_id for row_id, _, _ in failed]
    session.execute(
        update(adjustments)
        .where(adjustments.c.id.in_(ids))
        .values(
            status=AdjustmentStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            error=None,
            error_kind=None,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    session.execute(
        update(connection_operations)
        .where(connection_operations.c.id == operation_id)
        .values(status=OperationStatus.PENDING.value, reason=None, updated_at=now)
    )
    return RetryResult(operation_id, ids)


__all__ = ["RetryRefused", "RetryResult", "retry"]
