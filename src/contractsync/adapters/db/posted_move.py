"""SPEC §2: an adjustment in a period Autotask has posted moves, by itself, to the start of the
first unposted contract period: before it is sent, when the worker knows the period is posted
(`move_before_sending`, see delivery/posted_check.py), or after Autotask refused it (`move_past_posted`,
the fallback).

Runs inside a worker transaction for the row: the service lease is ours (no
other worker sends for the service meanwhile) and the caller locked the subscription before
anything else, in the same order as the use cases, so a concurrent operation on it waits and
then plans from the moved rows. The row is superseded (it was not applied); the re-plan gives the
same audit record a new row, which the worker sends next. Every move lands after the posted
period, so the dates only grow and end at the contract's end: no loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db import operations, state_store
from contractsync.adapters.db.outbox_rows import Adjustment, AdjustmentStatus
from contractsync.adapters.db.posted_periods import learn_posted_period
from contractsync.adapters.db.subscription_books import SqlSubscriptionBooks
from contractsync.adapters.db.tables import adjustments, connection_operations
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.ports.psa import PsaError

log = logging.getLogger(__name__)

#: The use case that re-plans a contract service from a date (`service.replan.replan_service`),
#: handed in by the composition root: `(books, *, connection_id, subscription_id,
#: contract_service_id, since, now, record_type, owner_id)` → the re-plan, or None when unmapped.
Replan = Callable[..., Any]


def move_past_posted(
    session: Session, row: Adjustment, error: PsaError, now: datetime, replan: Replan
) -> bool:
    """Learn the posted period and move `row`'s adjustment past it; False when it cannot move
    (contract or mapping unknown, the re-plan would stay in the refused period or leave the
    contract). Then nothing but the posted-through date was written: the caller fails the row."""
    learned = learn_posted_period(session, row.connection_id, row.contract_id, row.effective_date)
    if learned is None:
        return False
    period = learned.period
    posted = f"Autotask has posted the period {period.start.isoformat()}–{period.end.isoformat()}"
    refusal = None if error.refusal is None else error.refusal.value
    refused = _Superseded(error.message, error.kind.value, refusal, row.attempts + 1)
    return _try_move(session, row, now, period.end, posted, refused, replan)


def move_before_sending(
    session: Session, row: Adjustment, posted_through: date, now: datetime, replan: Replan
) -> bool:
    """Autotask has posted the contract through `posted_through`, which holds `row`'s date (read
    from ContractServiceUnits before sending, or learned meanwhile for another service): the
    adjustment moves to the first unposted period without a refused call. Remembers the date for
    every later plan; False when the adjustment cannot move (the caller then sends it, and the
    refusal decides, as before)."""
    learned = learn_posted_period(session, row.connection_id, row.contract_id, posted_through)
    if learned is None:
        return False
    through = learned.posted_through
    posted = f"Autotask has posted the contract periods through {through.isoformat()}"
    return _try_move(session, row, now, through, posted, _Superseded(None, None, None, row.attempts), replan)


@dataclass(frozen=True)
class _Superseded:
    """What the row that does not go out keeps: Autotask's refusal, if there was one."""

    error: str | None
    error_kind: str | None
    refusal: str | None
    attempts: int


def _try_move(
    session: Session,
    row: Adjustment,
    now: datetime,
    posted_end: date,
    posted: str,
    superseded: _Superseded,
    replan: Replan,
) -> bool:
    try:
        with session.begin_nested():  # rolled back when it cannot move
            _move(session, row, now, posted_end, posted, superseded, replan)
    except _CannotMove:
        return False
    except Exception:  # a surprise in the re-plan must not wedge the service: fail the row
        log.exception("moving adjustment %s past the posted period failed", row.id)
        return False
    return True


class _CannotMove(Exception):
    """Rolls the savepoint back: the row is failed as before."""


def _move(
    session: Session,
    row: Adjustment,
    now: datetime,
    posted_end: date,
    posted: str,
    superseded: _Superseded,
    replan: Replan,
) -> None:
    if row.subscription_id is None:
        raise _CannotMove
    # Not open any more, so the re-plan neither counts it as held nor re-plans it.
    session.execute(
        update(adjustments)
        .where(adjustments.c.id == row.id)
        .values(
            status=AdjustmentStatus.SUPERSEDED.value,
            error=superseded.error,
            error_kind=superseded.error_kind,
            refusal=superseded.refusal,
            attempts=superseded.attempts,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    record_type = session.execute(
        select(connection_operations.c.type).where(connection_operations.c.id == row.operation_id)
    ).scalar_one()
    replanned = replan(
        SqlSubscriptionBooks(session),
        connection_id=row.connection_id,
        subscription_id=row.subscription_id,
        contract_service_id=row.contract_service_id,
        since=row.effective_date,
        now=now,
        record_type=RecordType(record_type),
        owner_id=row.operation_id,
    )
    if replanned is None or replanned.record.status is RecordStatus.FAILED:
        raise _CannotMove  # unmapped meanwhile, or the first unposted period is past the contract
    if not replanned.loaded.state.books[row.contract_service_id].intents:
        raise _CannotMove  # nothing known to re-plan from (e.g. rows enqueued without a book)
    moved_to = replanned.new_dates()
    if moved_to and moved_to[0] <= posted_end:
        raise _CannotMove  # still in the posted period: sending it again would be refused again
    state_store.save(session, replanned.loaded, f"moved:{row.id}", now, "worker")
    if moved_to:
        explanation = f"moved from {row.effective_date.isoformat()} to {moved_to[0].isoformat()}: {posted}"
    else:
        explanation = (
            f"not sent on {row.effective_date.isoformat()}: {posted}; "
            "from the first unposted period on nothing is left to send"
        )
    operations.add_note(session, row.operation_id, explanation, now)
    operations.recompute_status(session, row.operation_id, now, reason=explanation)
