"""The outbox repository: what use cases call to plan deliveries (the worker does the rest).

All functions take the caller's session and never commit: the rows are written in the same
transaction as the subscription change and its audit records (transactional outbox).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contractsync.adapters.db import bulk, operations
from contractsync.adapters.db.outbox_rows import (
    Adjustment,
    AdjustmentStatus,
    LedgerEntry,
    NewAdjustment,
)
from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.sql import one_of
from contractsync.adapters.db.tables import adjustments, contract_service_state, ledger
from contractsync.ports.subscription_books import LostRace

NOTIFY_CHANNEL = "contractsync_outbox"


class OutboxError(LostRace):
    """A request the outbox refuses (e.g. superseding a row that is already being sent)."""


def ensure_services(session: Session, services: Iterable[tuple[str, int, int]]) -> None:
    """Create the contract services' state rows (lease, units-unknown flag) that are missing, for
    (connection, contract service, contract) triples."""
    values = [
        {
            "connection_id": conn,
            "contract_service_id": cs,
            "contract_id": contract,
            "units_unknown": False,
            "version": 1,
        }
        for conn, cs, contract in sorted(set(services))
    ]
    if values:
        dialect = postgresql if is_postgres(session) else sqlite
        session.execute(dialect.insert(contract_service_state).on_conflict_do_nothing(), values)


def enqueue(
    session: Session, rows: Sequence[NewAdjustment], now: datetime, known_services: Iterable[int] = ()
) -> list[int]:
    """Insert outbox rows (in the given order, which is their delivery order per service).
    `known_services`: contract services whose state row the caller saw (not created again)."""
    if not rows:
        return []
    known = set(known_services)
    ensure_services(
        session,
        [
            (r.connection_id, r.contract_service_id, r.contract_id)
            for r in rows
            if r.contract_service_id not in known
        ],
    )
    # One INSERT … RETURNING; ids come back in the order given (the delivery order). On
    # PostgreSQL the same statement notifies listening workers (delivered only when this
    # transaction commits; PostgreSQL sends a transaction's identical notifications once).
    return bulk.insert_returning_ids(
        session.connection(),
        adjustments,
        [
            {
                "operation_id": row.operation_id,
                "connection_id": row.connection_id,
                "subscription_id": row.subscription_id,
                "contract_id": row.contract_id,
                "contract_service_id": row.contract_service_id,
                "effective_date": row.effective_date,
                "target_units": row.target_units,
                "unit_price": row.unit_price,
                "unit_cost": row.unit_cost,
                "planned_unit_change": row.planned_unit_change,
                "status": AdjustmentStatus.PENDING.value,
                "due_at": row.due_at,
                "next_attempt_at": row.due_at,
                "attempts": 0,
                "created_at": now,
            }
            for row in rows
        ],
        notify=NOTIFY_CHANNEL,
    )


def get(session: Session, adjustment_id: int) -> Adjustment:
    return Adjustment.from_row(
        session.execute(select(adjustments).where(adjustments.c.id == adjustment_id)).one()
    )


def supersede(session: Session, ids: Iterable[int], reason: str, now: datetime) -> None:
    """Mark pending (or failed) rows superseded, e.g. when a later operation re-plans the service.

    Refuses rows already `sending` or `sent`: their effect may already be in Autotask.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return
    found = session.execute(
        select(adjustments.c.id, adjustments.c.status, adjustments.c.operation_id)
        .where(one_of(session, adjustments.c.id, wanted))
        .with_for_update()
    ).all()
    missing = set(wanted) - {r.id for r in found}
    if missing:
        raise OutboxError(f"unknown adjustments: {sorted(missing)}")
    busy = [r.id for r in found if r.status in (AdjustmentStatus.SENDING, AdjustmentStatus.SENT)]
    if busy:
        raise OutboxError(f"adjustments {busy} are already being sent or sent; they cannot be superseded")
    session.execute(
        update(adjustments)
        .where(one_of(session, adjustments.c.id, wanted), adjustments.c.status != AdjustmentStatus.SUPERSEDED)
        .values(
            status=AdjustmentStatus.SUPERSEDED.value, error=reason, lease_owner=None, lease_expires_at=None
        )
    )
    operations.recompute_statuses(session, {r.operation_id for r in found}, now)


def ledger_for_service(session: Session, connection_id: str, contract_service_id: int) -> list[LedgerEntry]:
    """What Autotask holds for the service, as dated adjustments (oldest first)."""
    query = (
        select(ledger)
        .where(ledger.c.connection_id == connection_id, ledger.c.contract_service_id == contract_service_id)
        .order_by(ledger.c.effective_date)
    )
    return [LedgerEntry.from_row(r) for r in session.execute(query)]


def units_on(session: Session, connection_id: str, contract_service_id: int, on: date) -> int:
    """Units Autotask holds on a date according to the ledger (sum of changes up to it)."""
    total = session.execute(
        select(func.coalesce(func.sum(ledger.c.unit_change), 0)).where(
            ledger.c.connection_id == connection_id,
            ledger.c.contract_service_id == contract_service_id,
            ledger.c.effective_date <= on,
        )
    ).scalar_one()
    return int(total)
