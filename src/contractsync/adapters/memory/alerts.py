"""The alerts port in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
from contractsync.ports.service_creations import OPEN_CREATIONS, ServiceCreation

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemoryAlerts:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def _by_key(self, dedupe_key: str) -> Alert | None:
        found = [i for i, key in self.data.alert_keys.items() if key == dedupe_key]
        return self.data.alerts[found[0]] if found else None

    def raise_alert(self, alert: NewAlert, now: datetime) -> int:
        current = self._by_key(alert.dedupe_key)
        if current is None:
            alert_id = max(self.data.alerts, default=0) + 1
            self.data.alerts[alert_id] = Alert(
                alert_id, alert.kind, alert.message, alert.connection_id, alert.subscription_id, now,
                operation_id=alert.operation_id, reseller_id=alert.reseller_id,
            )  # fmt: skip
            self.data.alert_keys[alert_id] = alert.dedupe_key
            return alert_id
        if current.resolved_at is not None:  # raised again: a new follow-up
            current = replace(current, created_at=now, resolved_at=None, operation_id=alert.operation_id,
                              acknowledged_at=None, acknowledged_by=None, notified_at=None,
                              resolution_notified_at=None, notify_claimed_at=None)  # fmt: skip
        self.data.alerts[current.id] = replace(current, message=alert.message)
        return current.id

    def resolve(self, dedupe_key: str, now: datetime) -> None:
        current = self._by_key(dedupe_key)
        if current is not None and current.resolved_at is None:
            self.data.alerts[current.id] = replace(current, resolved_at=now)

    def open_keys(self, kinds: Iterable[str]) -> dict[int, str]:
        wanted = set(kinds)
        return {
            i: self.data.alert_keys[i]
            for i, a in self.data.alerts.items()
            if a.kind in wanted and a.resolved_at is None
        }

    def resolve_ids(self, alert_ids: list[int], now: datetime) -> None:
        for i in alert_ids:
            self.data.alerts[i] = replace(self.data.alerts[i], resolved_at=now)

    def to_notify(self, limit: int, claimed_before: datetime) -> list[Alert]:
        waiting = [
            a for a in self.data.alerts.values() if _news(a) is not None and _unclaimed(a, claimed_before)
        ]
        return sorted(waiting, key=lambda a: a.id)[:limit]

    def claim_notification(self, alert_id: int, now: datetime, claimed_before: datetime) -> AlertEvent | None:
        alert = self.data.alerts[alert_id]
        event = _news(alert, acknowledged_too=True)
        if event is None or not _unclaimed(alert, claimed_before):
            return None
        self.data.alerts[alert_id] = replace(alert, notify_claimed_at=now)
        return event

    def mark_notified(self, alert_id: int, event: AlertEvent, now: datetime) -> None:
        alert = self.data.alerts[alert_id]
        still = event == "raised" or alert.resolved_at is not None
        sent: dict[str, Any] = {SENT_AT[event]: now} if still else {}
        self.data.alerts[alert_id] = replace(alert, notify_claimed_at=None, **sent)

    def release_notification(self, alert_id: int) -> None:
        self.data.alerts[alert_id] = replace(self.data.alerts[alert_id], notify_claimed_at=None)

    def _visible(self, alert: Alert, reseller_id: str | None) -> bool:
        if reseller_id is None or alert.reseller_id == reseller_id:
            return True
        connection = self.data.connections.get(alert.connection_id or "")
        subscription = self.data.subscriptions.get(alert.subscription_id or "")
        return (connection is not None and connection.reseller_id == reseller_id) or (
            subscription is not None and subscription.value.reseller_id == reseller_id
        )

    def listed(self, reseller_id: str | None, state: str) -> list[Alert]:
        def wanted(a: Alert) -> bool:
            if state == "resolved":
                return a.resolved_at is not None
            if state == "acknowledged":
                return a.resolved_at is None and a.acknowledged_at is not None
            return state == "all" or a.resolved_at is None

        alerts = sorted(self.data.alerts.values(), key=lambda a: -a.id)
        return [a for a in alerts if wanted(a) and self._visible(a, reseller_id)]

    def alert(self, alert_id: int, reseller_id: str | None) -> Alert | None:
        found = self.data.alerts.get(alert_id)
        return found if found is not None and self._visible(found, reseller_id) else None

    def acknowledge(self, alert_id: int, now: datetime, by: str) -> None:
        current = self.data.alerts[alert_id]
        if current.acknowledged_at is None:
            self.data.alerts[alert_id] = replace(current, acknowledged_at=now, acknowledged_by=by)

    def failed_deliveries(self) -> list[FailedDelivery]:
        errors: dict[tuple[int, str | None, str], list[str]] = {}
        for a in self.data.adjustments.values():
            if a.status == "failed":
                errors.setdefault((a.operation_id, a.subscription_id, a.connection_id), []).extend(
                    [a.error] if a.error is not None else []
                )
        return [FailedDelivery(*key, max(found, default=None)) for key, found in errors.items()]

    def _open_creation(self, subscription_id: str, connection_id: str) -> ServiceCreation | None:
        return next(
            (
                c
                for _, c in sorted(self.data.creations.items())
                if c.subscription_id == subscription_id
                and c.connection_id == connection_id
                and c.status in OPEN_CREATIONS
            ),
            None,
        )

    def unmapped_subscriptions(self) -> list[UnmappedSubscription]:
        found = []
        for key, stored in sorted(self.data.subscriptions.items()):
            if key in self.data.subscription_mappings or not stored.value.is_live:
                continue
            for mapping in self.data.mappings_of_customer(stored.value.customer_id):
                creation = self._open_creation(key, mapping.connection_id)
                creating = () if creation is None else (True, creation.attempts, creation.error)
                found.append(
                    UnmappedSubscription(key, mapping.connection_id, stored.value.customer_id, *creating)
                )
        return found

    def failed_polls(self) -> list[FailedPoll]:
        found = []
        for source_id, poll in sorted(self.data.polls.items()):
            if poll.status == "failed":
                source = self.data.sources[source_id]
                found.append(
                    FailedPoll(
                        source_id, source.reseller_id, source.poll_minutes, poll.last_error, poll.finished_at
                    )
                )
        return found

    def stalled_deliveries(self, due_before: datetime) -> list[StalledDeliveries]:
        """(In memory adjustments have no back-off and no lease: pending and due is waiting.)"""
        waiting: dict[str, list[datetime]] = {}
        for a in self.data.adjustments.values():
            if a.status == "pending" and a.due_at < due_before and a.connection_id not in self.data.pauses:
                waiting.setdefault(a.connection_id, []).append(a.due_at)
        return [StalledDeliveries(c, len(due), min(due)) for c, due in sorted(waiting.items())]


def _news(alert: Alert, acknowledged_too: bool = False) -> AlertEvent | None:
    """What the alert webhook has yet to be told of `alert` (see `Alerts.to_notify`)."""
    if alert.resolved_at is None:
        waiting = alert.notified_at is None and (acknowledged_too or alert.acknowledged_at is None)
        return "raised" if waiting else None
    if alert.notified_at is not None and alert.resolution_notified_at is None:
        return "resolved"
    return None


def _unclaimed(alert: Alert, claimed_before: datetime) -> bool:
    return alert.notify_claimed_at is None or alert.notify_claimed_at < claimed_before
