"""Where a new X5 alert is sent besides the console, the API and `/metrics`: the operator's chat
or paging tool (`CONTRACTSYNC_ALERT_WEBHOOK_URL`). `notify` delivers one alert's news (`event`:
raised, or resolved) with the alert as `GET /v1/alerts` answers it, or raises
`NotificationFailed`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from contractsync.ports.alerts import AlertEvent


class NotificationFailed(Exception):
    """The alert did not reach its receiver; the message says why, never where (the address may
    carry a secret)."""


class AlertNotifier(Protocol):
    def notify(self, alert: Mapping[str, Any], event: AlertEvent) -> None: ...
