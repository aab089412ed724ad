"""The alerts port in SQL (alerts and their follow-up: operation, acknowledgement)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contractsync.adapters.db.partner_center_tables import partner_center_polls, partner_center_sources
from contractsync.adapters.db.pause_table import connection_pauses
from contractsync.adapters.db.reconciliation_tables import alert_follow_up
from contractsync.adapters.db.service_creations_table import service_creations
from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.tables import (
    adjustments,
    alerts,
    connections,
    customer_mappings,
    subscription_mappings,
    subscriptions,
)
from contractsync.ports.alerts import (
    SENT_AT,
    Alert,
    AlertEvent,
    FailedDelivery,
    FailedPoll,
    NewAlert,
    StalledDeliveries,
    UnmappedSubscription,
)
from contractsync.ports.service_creations import OPEN_CREATIONS


def _alert(row: Any) -> Alert:
    return Alert(
        id=row.id,
        kind=row.kind,
        message=row.message,
        connection_id=row.connection_id,
        subscription_id=row.subscription_id,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        operation_id=row.operation_id,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        reseller_id=row.reseller_id,
        notified_at=row.notified_at,
        resolution_notified_at=row.resolution_notified_at,
        notify_claimed_at=row.notify_claimed_at,
    )


def _visible(reseller_id: str | None, query: Any) -> Any:
    if reseller_id is None:
        return query
    own_connections = select(connections.c.id).where(connections.c.reseller_id == reseller_id)
    own_subscriptions = select(subscriptions.c.id).where(subscriptions.c.reseller_id == reseller_id)
    return query.where(
        alerts.c.connection_id.in_(own_connections)
        | alerts.c.subscription_id.in_(own_subscriptions)
        | (alerts.c.reseller_id == reseller_id)
    )


#: an alert's news for the webhook, each by the condition that it waits to be sent (`to_notify`)
_NEWS: dict[AlertEvent, Any] = {
    "raised": and_(alerts.c.resolved_at.is_(None), alerts.c.notified_at.is_(None)),
    "resolved": and_(
        alerts.c.resolved_at.is_not(None), alerts.c.notified_at.is_not(None),
        alerts.c.resolution_notified_at.is_(None),
    ),
}  # fmt: skip


def _unclaimed(claimed_before: datetime) -> Any:
    claimed = alerts.c.notify_claimed_at
    return or_(claimed.is_(None), claimed < claimed_before)


_WITH_FOLLOW_UP = select(
    alerts,
    alert_follow_up.c.operation_id,
    alert_follow_up.c.acknowledged_at,
    alert_follow_up.c.acknowledged_by,
).outerjoin(alert_follow_up, alert_follow_up.c.alert_id == alerts.c.id)


class SqlAlerts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def raise_alert(self, alert: NewAlert, now: datetime) -> int:
        session, key = self.session, alert.dedupe_key
        dialect = postgresql if is_postgres(session) else sqlite
        row = session.execute(
            select(alerts.c.id, alerts.c.resolved_at).where(alerts.c.dedupe_key == key)
        ).first()
        if row is None:
            # Two callers may raise the same alert at once: the unique key keeps one row.
            session.execute(
                dialect.insert(alerts)
                .values(kind=alert.kind, message=alert.message, connection_id=alert.connection_id,
                        subscription_id=alert.subscription_id, created_at=now, dedupe_key=key,
                        reseller_id=alert.reseller_id)
                .on_conflict_do_nothing()
            )  # fmt: skip
            alert_id = int(
                session.execute(select(alerts.c.id).where(alerts.c.dedupe_key == key)).scalar_one()
            )
            session.execute(
                dialect.insert(alert_follow_up)
                .values(alert_id=alert_id, operation_id=alert.operation_id)
                .on_conflict_do_nothing()
            )
            return alert_id
        alert_id = int(row.id)
        values: dict[str, Any] = {"message": alert.message}
        if row.resolved_at is not None:
            values.update(
                created_at=now, resolved_at=None, notified_at=None, resolution_notified_at=None,
                notify_claimed_at=None,
            )  # fmt: skip
            session.execute(delete(alert_follow_up).where(alert_follow_up.c.alert_id == alert_id))
            session.execute(
                alert_follow_up.insert().values(alert_id=alert_id, operation_id=alert.operation_id)
            )
        session.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
        return alert_id

    def resolve(self, dedupe_key: str, now: datetime) -> None:
        self.session.execute(
            update(alerts)
            .where(alerts.c.dedupe_key == dedupe_key, alerts.c.resolved_at.is_(None))
            .values(resolved_at=now)
        )

    def open_keys(self, kinds: Iterable[str]) -> dict[int, str]:
        rows = self.session.execute(
            select(alerts.c.id, alerts.c.dedupe_key).where(
                alerts.c.kind.in_(list(kinds)), alerts.c.resolved_at.is_(None)
            )
        )
        return {r.id: r.dedupe_key for r in rows}

    def resolve_ids(self, alert_ids: list[int], now: datetime) -> None:
        if alert_ids:
            self.session.execute(update(alerts).where(alerts.c.id.in_(alert_ids)).values(resolved_at=now))

    def listed(self, reseller_id: str | None, state: str) -> list[Alert]:
        query = _visible(reseller_id, _WITH_FOLLOW_UP.order_by(alerts.c.id.desc()))
        if state in ("open", "acknowledged"):
            query = query.where(alerts.c.resolved_at.is_(None))
        if state == "acknowledged":
            query = query.where(alert_follow_up.c.acknowledged_at.is_not(None))
        if state == "resolved":
            query = query.where(alerts.c.resolved_at.is_not(None))
        return [_alert(r) for r in self.session.execute(query)]

    def alert(self, alert_id: int, reseller_id: str | None) -> Alert | None:
        row = self.session.execute(
            _visible(reseller_id, _WITH_FOLLOW_UP.where(alerts.c.id == alert_id))
        ).first()
        return None if row is None else _alert(row)

    def acknowledge(self, alert_id: int, now: datetime, by: str) -> None:
        follow = self.session.execute(
            select(alert_follow_up).where(alert_follow_up.c.alert_id == alert_id)
        ).first()
        if follow is None:
            self.session.execute(
                alert_follow_up.insert().values(alert_id=alert_id, acknowledged_at=now, acknowledged_by=by)
            )
        elif follow.acknowledged_at is None:
            self.session.execute(
                update(alert_follow_up)
                .where(alert_follow_up.c.alert_id == alert_id)
                .values(acknowledged_at=now, acknowledged_by=by)
            )

    def to_notify(self, limit: int, claimed_before: datetime) -> list[Alert]:
        query = _WITH_FOLLOW_UP.where(
            or_(and_(_NEWS["raised"], alert_follow_up.c.acknowledged_at.is_(None)), _NEWS["resolved"]),
            _unclaimed(claimed_before),
        )
        return [_alert(r) for r in self.session.execute(query.order_by(alerts.c.id).limit(limit))]

    def claim_notification(self, alert_id: int, now: datetime, claimed_before: datetime) -> AlertEvent | None:
        for event, waiting in _NEWS.items():
            claimed = self.session.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, waiting, _unclaimed(claimed_before))
                .values(notify_claimed_at=now)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return event
        return None

    def mark_notified(self, alert_id: int, event: AlertEvent, now: datetime) -> None:
        still = alerts.c.resolved_at.is_not(None) if event == "resolved" else true()
        self.session.execute(
            update(alerts).where(alerts.c.id == alert_id, still).values({SENT_AT[event]: now})
        )
        self.release_notification(alert_id)

    def release_notification(self, alert_id: int) -> None:
        self.session.execute(update(alerts).where(alerts.c.id == alert_id).values(notify_claimed_at=None))

    def failed_deliveries(self) -> list[FailedDelivery]:
        a = adjustments.c
        rows = self.session.execute(
            select(a.operation_id, a.subscription_id, a.connection_id, func.max(a.error))
            .where(a.status == "failed")
            .group_by(a.operation_id, a.subscription_id, a.connection_id)
        )
        return [FailedDelivery(*row) for row in rows]

    def unmapped_subscriptions(self) -> list[UnmappedSubscription]:
        creating = (
            select(
                service_creations.c.subscription_id,
                service_creations.c.connection_id,
                service_creations.c.attempts,
                service_creations.c.error,
            )
            .where(service_creations.c.status.in_(OPEN_CREATIONS))
            .subquery()
        )
        rows = self.session.execute(
            select(
                subscriptions.c.id,
                customer_mappings.c.connection_id,
                subscriptions.c.customer_id,
                creating.c.subscription_id.is_not(None),
                creating.c.attempts,
                creating.c.error,
            )
            .join(customer_mappings, customer_mappings.c.customer_id == subscriptions.c.customer_id)
            .outerjoin(subscription_mappings, subscription_mappings.c.subscription_id == subscriptions.c.id)
            .outerjoin(
                creating,
                (creating.c.subscription_id == subscriptions.c.id)
                & (creating.c.connection_id == customer_mappings.c.connection_id),
            )
            .where(
                subscription_mappings.c.subscription_id.is_(None),
                subscriptions.c.status.in_(["active", "suspended"]),
            )
            .order_by(subscriptions.c.id, customer_mappings.c.connection_id)
        )
        return [
            UnmappedSubscription(sid, connection_id, customer_id, bool(open_), attempts or 0, error)
            for sid, connection_id, customer_id, open_, attempts, error in rows
        ]

    def failed_polls(self) -> list[FailedPoll]:
        polls, sources = partner_center_polls.c, partner_center_sources.c
        rows = self.session.execute(
            select(
                polls.source_id,
                sources.reseller_id,
                sources.poll_minutes,
                polls.last_error,
                polls.finished_at,
            )
            .join(partner_center_sources, sources.id == polls.source_id)
            .where(polls.status == "failed")
            .order_by(polls.source_id)
        )
        return [FailedPoll(*row) for row in rows]

    def stalled_deliveries(self, due_before: datetime) -> list[StalledDeliveries]:
        a = adjustments.c
        waiting = ((a.status == "pending") & (a.due_at < due_before) & (a.next_attempt_at < due_before)) | (
            (a.status == "sending") & (a.lease_expires_at < due_before)
        )
        rows = self.session.execute(
            select(a.connection_id, func.count(), func.min(a.due_at))
            .where(waiting, a.connection_id.not_in(select(connection_pauses.c.connection_id)))
            .group_by(a.connection_id)
            .order_by(a.connection_id)
        )
        return [StalledDeliveries(*row) for row in rows]
