"""Recording the outcome of one delivery attempt on the outbox row, the ledger and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from contractsync.adapters.db import ledger_repo, operations
from contractsync.adapters.db.outbox_rows import Adjustment, AdjustmentStatus, LedgerEntry
from contractsync.adapters.db.tables import adjustments

S = AdjustmentStatus


def _set(session: Session, row: Adjustment, **values: Any) -> None:
    session.execute(update(adjustments).where(adjustments.c.id == row.id).values(**values))


def mark_sending(
    session: Session, row: Adjustment, owner: str, lease_until: datetime, request_json: dict[str, Any]
) -> bool:
    """Committed before the HTTP call: if we die mid-call, the row is found `sending` later.
    Only a row still pending becomes `sending`; False when a re-plan superseded it meanwhile."""
    result = session.execute(
        update(adjustments)
        .where(adjustments.c.id == row.id, adjustments.c.status == S.PENDING.value)
        .values(
            status=S.SENDING.value, lease_owner=owner, lease_expires_at=lease_until, request_json=request_json
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def keep_response(session: Session, row: Adjustment, response_json: dict[str, Any]) -> None:
    _set(session, row, response_json=response_json)


def back_to_pending(session: Session, row: Adjustment) -> None:
    _set(session, row, status=S.PENDING.value, lease_owner=None, lease_expires_at=None)


def record_sent(
    session: Session,
    row: Adjustment,
    now: datetime,
    *,
    unit_change: int,
    autotask_id: int | None,
    response_json: dict[str, Any] | None,
    note: str | None = None,
    write_ledger: bool = True,
) -> None:
    _set(
        session,
        row,
        status=S.SENT.value,
        sent_unit_change=unit_change,
        autotask_id=autotask_id,
        response_json=response_json,
        sent_at=now,
        lease_owner=None,
        lease_expires_at=None,
        error=None,
        error_kind=None,
    )
    if write_ledger:
        entry = LedgerEntry(
            row.effective_date, unit_change, row.unit_price, row.unit_cost, autotask_id, row.id
        )
        ledger_repo.record(session, row.connection_id, row.contract_service_id, entry)
    if note:
        operations.add_note(session, row.operation_id, note, now)
    touched = {row.operation_id, *_supersede_earlier_failures(session, row)}
    for operation_id in sorted(touched):
        operations.recompute_status(session, operation_id, now)


def _supersede_earlier_failures(session: Session, row: Adjustment) -> set[int]:
    """F1: a later success carries the net effect of earlier failed rows of the same service.

    Their error text stays: Autotask's message is still why each of them failed.
    """
    superseded = session.execute(
        update(adjustments)
        .where(
            adjustments.c.connection_id == row.connection_id,
            adjustments.c.contract_service_id == row.contract_service_id,
            adjustments.c.status == S.FAILED,
            adjustments.c.id < row.id,
        )
        .values(status=S.SUPERSEDED.value)
        .returning(adjustments.c.operation_id)
    ).all()
    return {int(r[0]) for r in superseded}


def record_failed(session: Session, row: Adjustment, now: datetime, error: str, kind: str) -> None:
    """Failed for good: Autotask's message is kept; later rows of the service are not blocked (F1)."""
    _set(
        session,
        row,
        status=S.FAILED.value,
        error=error,
        error_kind=kind,
        attempts=row.attempts + 1,
        lease_owner=None,
        lease_expires_at=None,
    )
    operations.recompute_status(session, row.operation_id, now, reason=error)


def record_retry(
    session: Session, row: Adjustment, now: datetime, error: str, kind: str, next_attempt_at: datetime
) -> None:
    _set(
        session,
        row,
        status=S.PENDING.value,
        error=error,
        error_kind=kind,
        attempts=row.attempts + 1,
        next_attempt_at=next_attempt_at,
        lease_owner=None,
        lease_expires_at=None,
    )


def hold_for_pause(session: Session, row: Adjustment, error: str, kind: str) -> None:
    """Autotask refused the credentials, not the adjustment: pending again, no attempt counted."""
    _set(
        session,
        row,
        status=S.PENDING.value,
        error=error,
        error_kind=kind,
        lease_owner=None,
        lease_expires_at=None,
    )
