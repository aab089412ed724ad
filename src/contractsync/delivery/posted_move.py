"""SPEC §2: an adjustment Autotask refused because its period is posted moves, by itself, to the
start of the first unposted contract period.

Runs inside the worker's outcome transaction for the refused row: the service lease is ours (no
other worker sends for the service meanwhile) and the caller locked the subscription before
anything else, in the same order as the use cases, so a concurrent operation on it waits and
then plans from the moved rows. The refused row is superseded (it was not applied); the re-plan
gives the same audit record a new row, which the worker sends next. Every move lands after the
refused period, so the dates only grow and end at the contract's end: no loop.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db import operations, state_store
from contractsync.adapters.db.posted_periods import learn_posted_period
from contractsync.adapters.db.records import Adjustment, AdjustmentStatus
from contractsync.adapters.db.tables import adjustments, connection_operations
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.service.psa import PsaError
from contractsync.service.replan import replan_service

log = logging.getLogger(__name__)


def move_past_posted(session: Session, row: Adjustment, error: PsaError, now: datetime) -> bool:
    """Learn the posted period and move `row`'s adjustment past it; False when it cannot move
    (contract or mapping unknown, the re-plan would stay in the refused period or leave the
    contract). Then nothing but the posted-through date was written: the caller fails the row."""
    try:
        with session.begin_nested():  # rolled back when it cannot move
            _move(session, row, error, now)
    except _CannotMove:
        return False
    except Exception:  # a surprise in the re-plan must not wedge the service: fail the row
        log.exception("moving adjustment %s past the posted period failed; failing it instead", row.id)
        return False
    return True


class _CannotMove(Exception):
    """Rolls the savepoint back: the row is failed as before."""


def _move(session: Session, row: Adjustment, error: PsaError, now: datetime) -> None:
    learned = learn_posted_period(session, row.connection_id, row.contract_id, row.effective_date)
    if learned is None or row.subscription_id is None:
        raise _CannotMove
    # Not open any more, so the re-plan neither counts it as held nor re-plans it.
    session.execute(
        update(adjustments)
        .where(adjustments.c.id == row.id)
        .values(
            status=AdjustmentStatus.SUPERSEDED.value,
            error=error.message,
            error_kind=error.kind.value,
            attempts=row.attempts + 1,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    record_type = session.execute(
        select(connection_operations.c.type).where(connection_operations.c.id == row.operation_id)
    ).scalar_one()
    replanned = replan_service(
        session,
        connection_id=row.connection_id,
        subscription_id=row.subscription_id,
        contract_service_id=row.contract_service_id,
        since=row.effective_date,
        now=now,
        record_type=RecordType(record_type),
        owner_id=row.operation_id,
    )
    period = learned.period
    if replanned is None or replanned.record.status is RecordStatus.FAILED:
        raise _CannotMove  # unmapped meanwhile, or the first unposted period is past the contract
    if not replanned.loaded.state.books[row.contract_service_id].intents:
        raise _CannotMove  # nothing known to re-plan from (e.g. rows enqueued without a book)
    moved_to = replanned.new_dates()
    if moved_to and moved_to[0] <= period.end:
        raise _CannotMove  # still in the refused period: sending it again would be refused again
    state_store.save(session, replanned.loaded, f"moved:{row.id}", now)
    posted = f"Autotask has posted the period {period.start.isoformat()}–{period.end.isoformat()}"
    if moved_to:
        explanation = f"moved from {row.effective_date.isoformat()} to {moved_to[0].isoformat()}: {posted}"
    else:
        explanation = (
            f"not sent on {row.effective_date.isoformat()}: {posted}; "
            "from the first unposted period on nothing is left to send"
        )
    operations.add_note(session, row.operation_id, explanation, now)
    operations.recompute_status(session, row.operation_id, now, reason=explanation)
