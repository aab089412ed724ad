"""Claiming work: one contract service at a time, under a lease, never two workers on one service.

A service is claimable when its head row (lowest id still pending or sending) is due — pending
past `due_at` (settle, R1a) and `next_attempt_at` (backoff) — or is `sending` under an expired
lease (the worker died mid-call: outcome unknown), and no live lease is held on the service, and its connection is not paused (a paused
connection's services are claimable only for its one due probe, see `pause.py`).
On PostgreSQL the service row is locked with FOR UPDATE SKIP LOCKED, so concurrent workers pass
over each other's claims instead of waiting; on SQLite BEGIN IMMEDIATE serialises claims.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from contractsync.adapters.db.outbox_rows import OPEN_STATUSES, Adjustment, AdjustmentStatus
from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.tables import adjustments, contract_service_state
from contractsync.delivery import pause

_earlier = aliased(adjustments)
_state = contract_service_state


@dataclass(frozen=True)
class ServiceClaim:
    connection_id: str
    contract_service_id: int
    contract_id: int
    #: Unique per claim (not per worker): a thread whose lease expired and was re-claimed,
    #: even by its own process, can no longer record anything for the service.
    token: str
    #: The one delivery allowed while the connection is paused (one Autotask call).
    probe: bool = False


def _is_head() -> ColumnElement[bool]:
    """No earlier open row of the same service exists."""
    return ~exists().where(
        _earlier.c.connection_id == adjustments.c.connection_id,
        _earlier.c.contract_service_id == adjustments.c.contract_service_id,
        _earlier.c.status.in_(OPEN_STATUSES),
        _earlier.c.id < adjustments.c.id,
    )


def _is_due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            adjustments.c.status == AdjustmentStatus.PENDING,
            adjustments.c.due_at <= now,
            adjustments.c.next_attempt_at <= now,
        ),
        and_(
            adjustments.c.status == AdjustmentStatus.SENDING,
            or_(adjustments.c.lease_expires_at.is_(None), adjustments.c.lease_expires_at < now),
        ),
    )


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(_state.c.lease_expires_at.is_(None), _state.c.lease_expires_at < now)


def _service_key(connection_id: str, contract_service_id: int) -> ColumnElement[bool]:
    return and_(_state.c.connection_id == connection_id, _state.c.contract_service_id == contract_service_id)


def due_heads(now: datetime) -> Select[tuple[str, int]]:
    return (
        select(adjustments.c.connection_id, adjustments.c.contract_service_id)
        .join(
            _state,
            and_(
                _state.c.connection_id == adjustments.c.connection_id,
                _state.c.contract_service_id == adjustments.c.contract_service_id,
            ),
        )
        .where(
            adjustments.c.status.in_(OPEN_STATUSES),
            _is_due(now),
            _is_head(),
            _lease_free(now),
            pause.claimable(now),
        )
        .order_by(adjustments.c.id)
    )


def head_row(
    session: Session, connection_id: str, contract_service_id: int, lock: bool = False
) -> Adjustment | None:
    """The service's next row to deliver (due or not), read fresh. `lock`: held until the
    transaction ends (PostgreSQL), so that a re-plan cannot supersede the row between this read
    and marking it `sending` — the re-plan waits, then finds it `sending` and plans again."""
    query = (
        select(adjustments)
        .where(
            adjustments.c.connection_id == connection_id,
            adjustments.c.contract_service_id == contract_service_id,
            adjustments.c.status.in_(OPEN_STATUSES),
        )
        .order_by(adjustments.c.id)
        .limit(1)
    )
    if lock and is_postgres(session):
        query = query.with_for_update()
    row = session.execute(query).first()
    return None if row is None else Adjustment.from_row(row)


def is_due(row: Adjustment, now: datetime) -> bool:
    if row.status == AdjustmentStatus.SENDING:
        return row.lease_expires_at is None or row.lease_expires_at < now
    return row.due_at <= now and row.next_attempt_at <= now


def claim_service(
    session: Session,
    owner: str,
    now: datetime,
    lease_seconds: float,
    batch: int,
    busy: Collection[tuple[str, int]] = (),
) -> ServiceClaim | None:
    """Lease one service with due work (not in `busy`). The caller commits before any HTTP."""
    rows = session.execute(due_heads(now).limit(batch)).mappings().all()
    candidates = dict.fromkeys((str(r["connection_id"]), int(r["contract_service_id"])) for r in rows)
    for connection_id, contract_service_id in candidates:
        if (connection_id, contract_service_id) in busy:
            continue
        locked = session.execute(
            select(_state.c.contract_id)
            .where(_service_key(connection_id, contract_service_id), _lease_free(now))
            .with_for_update(skip_locked=True)
        ).first()
        if locked is None:
            continue  # another worker holds it
        # The candidate list may be stale (read before another worker's commit): re-check.
        head = head_row(session, connection_id, contract_service_id)
        if head is None or not is_due(head, now):
            continue
        probe = pause.is_paused(session, connection_id)
        if probe and not pause.take_probe(session, connection_id, now):
            continue  # another worker is probing the connection
        token = f"{owner}/{uuid.uuid4().hex[:12]}"
        session.execute(
            update(_state)
            .where(_service_key(connection_id, contract_service_id))
            .values(
                lease_owner=token,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                version=_state.c.version + 1,
            )
        )
        return ServiceClaim(connection_id, contract_service_id, int(locked[0]), token, probe)
    return None


@dataclass(frozen=True)
class Lease:
    """A renewed lease, with the service's units-unknown flag read in the same statement."""

    units_unknown: bool


def renew_lease(session: Session, claim: ServiceClaim, now: datetime, lease_seconds: float) -> Lease | None:
    """Extend our lease; None when it is no longer ours (another claim took the service over)."""
    renewed = session.execute(
        update(_state)
        .where(
            _service_key(claim.connection_id, claim.contract_service_id), _state.c.lease_owner == claim.token
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(_state.c.units_unknown)
    ).first()
    return None if renewed is None else Lease(bool(renewed[0]))


def release_lease(session: Session, claim: ServiceClaim) -> None:
    session.execute(
        update(_state)
        .where(
            _service_key(claim.connection_id, claim.contract_service_id), _state.c.lease_owner == claim.token
        )
        .values(lease_owner=None, lease_expires_at=None)
    )


def set_units_unknown(session: Session, claim: ServiceClaim, value: bool) -> None:
    session.execute(
        update(_state)
        .where(_service_key(claim.connection_id, claim.contract_service_id))
        .values(units_unknown=value, version=_state.c.version + 1)
    )


def heartbeat(session: Session, claim: ServiceClaim, now: datetime, lease_seconds: float) -> bool:
    """Renew a live worker's lease on the service and on the row it is sending (if any); False when
    the lease is no longer ours."""
    until = now + timedelta(seconds=lease_seconds)
    renewed = session.execute(
        update(_state)
        .where(
            _service_key(claim.connection_id, claim.contract_service_id), _state.c.lease_owner == claim.token
        )
        .values(lease_expires_at=until)
    )
    if not renewed.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(update(adjustments).where(_sending_under(claim)).values(lease_expires_at=until))
    return True


def abandon(session: Session, claim: ServiceClaim) -> bool:
    """Give the service up in the middle of a call (graceful shutdown): the lease is released and
    a row still `sending` goes back to pending with the service's units marked unknown, so the
    next worker verifies what Autotask holds before it sends anything. True when a call was cut."""
    owned = session.execute(
        update(_state)
        .where(
            _service_key(claim.connection_id, claim.contract_service_id), _state.c.lease_owner == claim.token
        )
        .values(lease_owner=None, lease_expires_at=None)
    )
    if not owned.rowcount:  # type: ignore[attr-defined]
        return False
    cut = session.execute(
        update(adjustments)
        .where(_sending_under(claim))
        .values(status=AdjustmentStatus.PENDING.value, lease_owner=None, lease_expires_at=None)
    )
    if cut.rowcount:  # type: ignore[attr-defined]
        set_units_unknown(session, claim, True)
        return True
    return False


def _sending_under(claim: ServiceClaim) -> ColumnElement[bool]:
    """The service's row being sent under this claim."""
    return and_(
        adjustments.c.connection_id == claim.connection_id,
        adjustments.c.contract_service_id == claim.contract_service_id,
        adjustments.c.status == AdjustmentStatus.SENDING,
        adjustments.c.lease_owner == claim.token,
    )
