"""X5 alerts as stored: raised once per dedupe key, resolved, raised again, acknowledged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

#: what the alert webhook is told of an alert …
AlertEvent = Literal["raised", "resolved"]
#: … and the field (the column) that says when it was: set once the webhook accepted it
SENT_AT: dict[AlertEvent, str] = {"raised": "notified_at", "resolved": "resolution_notified_at"}


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    message: str
    connection_id: str | None
    subscription_id: str | None
    created_at: datetime  # when it was (last) raised
    resolved_at: datetime | None = None
    operation_id: int | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    #: the reseller it belongs to when it names neither a connection nor a subscription
    reseller_id: str | None = None
    #: when it was sent to the alert webhook since it was (last) raised …
    notified_at: datetime | None = None
    #: … and when its resolution was
    resolution_notified_at: datetime | None = None
    #: when a worker took its news to send (None: nobody is sending it)
    notify_claimed_at: datetime | None = None


@dataclass(frozen=True)
class FailedDelivery:
    """Audit record `operation_id` has an adjustment Autotask refused (`error`: one of its errors)."""

    operation_id: int
    subscription_id: str | None
    connection_id: str
    error: str | None


@dataclass(frozen=True)
class UnmappedSubscription:
    """A live subscription of a customer mapped on `connection_id`, itself not mapped; or being
    mapped there, waiting for its contract service to be created (`creating`: that creation's
    attempts so far and its last error)."""

    subscription_id: str
    connection_id: str
    customer_id: str
    creating: bool = False
    creation_attempts: int = 0
    creation_error: str | None = None


@dataclass(frozen=True)
class NewAlert:
    kind: str
    message: str
    connection_id: str | None
    subscription_id: str | None
    dedupe_key: str
    operation_id: int | None = None
    reseller_id: str | None = None


@dataclass(frozen=True)
class StalledDeliveries:
    """`count` adjustments of connection `connection_id` due (or claimed by a worker whose lease ran
    out) before a given moment and still not delivered; `oldest_due`: the earliest of them."""

    connection_id: str
    count: int
    oldest_due: datetime


@dataclass(frozen=True)
class FailedPoll:
    """The last poll of Partner Center source `source_id` (of `reseller_id`, polled every
    `poll_minutes`) failed with `error`; `last_success`: when a poll of it last finished (None:
    never)."""

    source_id: str
    reseller_id: str
    poll_minutes: int
    error: str | None
    last_success: datetime | None


class Alerts(Protocol):
    def raise_alert(self, alert: NewAlert, now: datetime) -> int:
        """Raise the alert, or raise again a resolved one of the same key (raised at `now`, its
        acknowledgement cleared); the message becomes the latest. Answers its id."""
        ...

    def resolve(self, dedupe_key: str, now: datetime) -> None: ...

    def open_keys(self, kinds: Iterable[str]) -> dict[int, str]:
        """Unresolved alerts of these kinds: id → dedupe key."""
        ...

    def resolve_ids(self, alert_ids: list[int], now: datetime) -> None: ...

    def listed(self, reseller_id: str | None, state: str) -> list[Alert]:
        """Newest first; `reseller_id`: only those of its connections or subscriptions. `state`:
        open (unresolved), acknowledged (and unresolved), resolved, all."""
        ...

    def alert(self, alert_id: int, reseller_id: str | None) -> Alert | None: ...

    def acknowledge(self, alert_id: int, now: datetime, by: str) -> None:
        """Acknowledged by `by` at `now`, unless acknowledged already."""
        ...

    def to_notify(self, limit: int, claimed_before: datetime) -> list[Alert]:
        """Alerts with news for the alert webhook, oldest first, at most `limit`: open ones nobody
        has acknowledged, not sent since they were (last) raised; resolved ones that were sent and
        whose resolution was not — unless a worker took that news at `claimed_before` or later."""
        ...

    def claim_notification(self, alert_id: int, now: datetime, claimed_before: datetime) -> AlertEvent | None:
        """Take the alert's news to send, at `now`: "raised" (an open alert not sent yet) or
        "resolved" (a resolved one that was sent, its resolution not yet); None when there is none,
        or a worker took it at `claimed_before` or later. The caller sends what it took."""
        ...

    def mark_notified(self, alert_id: int, event: AlertEvent, now: datetime) -> None:
        """The webhook accepted `event` at `now`: sent (unless it is no longer the alert's news:
        a resolution taken to send, and the alert raised again meanwhile)."""
        ...

    def release_notification(self, alert_id: int) -> None:
        """Sending the news failed, or is not to be: nobody is sending it now."""
        ...

    def failed_deliveries(self) -> list[FailedDelivery]: ...

    def unmapped_subscriptions(self) -> list[UnmappedSubscription]: ...

    def failed_polls(self) -> list[FailedPoll]:
        """Partner Center sources whose last poll failed, by id."""
        ...

    def stalled_deliveries(self, due_before: datetime) -> list[StalledDeliveries]:
        """By connection (not paused), the adjustments waiting for delivery since before
        `due_before`: pending and due (past any back-off), or `sending` under a lease that ran out."""
        ...
