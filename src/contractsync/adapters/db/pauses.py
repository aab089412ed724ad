"""Pausing a connection whose Autotask credentials were refused, and probing until they work.

An auth failure says nothing about the adjustment: Autotask did not look at it. So the row stays
pending with its attempts untouched, the connection is paused and one X5 alert is raised. While
paused, the worker claims nothing of the connection except one *probe* — one delivery of one
service — once `next_probe_at` has passed (5 minutes, doubling to 1 hour after each refused
probe). Any answer from Autotask other than "credentials refused" ends the pause and resolves
the alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contractsync.adapters.db.pause_table import connection_pauses
from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.tables import adjustments, alerts

ALERT_KIND = "connection_paused"
_pauses = connection_pauses


def claimable(now: datetime) -> ColumnElement[bool]:
    """For the claim query: the row's connection is not paused, or its probe is due."""
    return ~exists().where(
        _pauses.c.connection_id == adjustments.c.connection_id, _pauses.c.next_probe_at > now
    )


def is_paused(session: Session, connection_id: str) -> bool:
    return session.execute(select(exists().where(_pauses.c.connection_id == connection_id))).scalar_one()


def take_probe(session: Session, connection_id: str, now: datetime) -> bool:
    """Claim the connection's due probe; False when another worker took it first.

    The next probe moves one interval on at once, so a worker that dies mid-probe delays the
    next one by an interval instead of blocking the connection for good.
    """
    row = session.execute(
        select(_pauses.c.probe_interval_seconds)
        .where(_pauses.c.connection_id == connection_id, _pauses.c.next_probe_at <= now)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return False
    session.execute(
        update(_pauses)
        .where(_pauses.c.connection_id == connection_id)
        .values(next_probe_at=now + timedelta(seconds=int(row[0])))
    )
    return True


def pause(
    session: Session,
    connection_id: str,
    now: datetime,
    reason: str,
    *,
    probe_refused: bool,
    first_seconds: float,
    cap_seconds: float,
) -> None:
    """Pause the connection (raising its alert), or, after a refused probe, back off further.

    A refusal seen by a delivery that was already under way when the pause began changes
    nothing: the probe schedule stays as it is.
    """
    dialect = postgresql if is_postgres(session) else sqlite
    first = int(first_seconds)
    inserted = session.execute(
        dialect.insert(_pauses)
        .values(
            connection_id=connection_id,
            reason=reason,
            since=now,
            next_probe_at=now + timedelta(seconds=first),
            probe_interval_seconds=first,
        )
        .on_conflict_do_nothing()
        .returning(_pauses.c.connection_id)
    ).first()
    if inserted is not None:
        message = (
            f"Autotask refused the credentials of connection {connection_id}; deliveries for it "
            f"are paused until Autotask accepts them again, tried once every few minutes ({reason})"
        )
        session.execute(
            dialect.insert(alerts)
            .values(
                kind=ALERT_KIND,
                message=message,
                connection_id=connection_id,
                subscription_id=None,
                created_at=now,
                dedupe_key=f"{ALERT_KIND}:{connection_id}:{now.isoformat()}",
            )
            .on_conflict_do_nothing()
        )
        return
    if probe_refused:
        current = session.execute(
            select(_pauses.c.probe_interval_seconds)
            .where(_pauses.c.connection_id == connection_id)
            .with_for_update()
        ).scalar_one()
        interval = int(min(current * 2, cap_seconds))
        session.execute(
            update(_pauses)
            .where(_pauses.c.connection_id == connection_id)
            .values(
                reason=reason,
                next_probe_at=now + timedelta(seconds=interval),
                probe_interval_seconds=interval,
            )
        )


def resume(session: Session, connection_id: str, now: datetime) -> bool:
    """End the pause and resolve its alert; False when the connection was not paused."""
    ended = session.execute(
        delete(_pauses).where(_pauses.c.connection_id == connection_id).returning(_pauses.c.connection_id)
    ).first()
    if ended is not None:
        session.execute(
            update(alerts)
            .where(
                alerts.c.kind == ALERT_KIND,
                alerts.c.connection_id == connection_id,
                alerts.c.resolved_at.is_(None),
            )
            .values(resolved_at=now)
        )
    return ended is not None
