"""The alert notifier that POSTs each new alert as JSON to the operator's webhook.

The body: `text`, one line (what incoming webhooks of chat tools display: Slack's take
`{"text": …}`), `event` (`raised` or `resolved`) and `alert`, the alert as `GET /v1/alerts`
answers it. Any 2xx answer is
delivery; anything else, or no answer within `timeout` seconds, is `NotificationFailed` and the
alert is sent again later. The address is never logged or put in an error: a chat webhook's
address is its secret (httpx's own request log line shows the host only, `…` for the path).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from contractsync.ports.alert_notifier import NotificationFailed
from contractsync.ports.alerts import AlertEvent

#: the worker's scheduled work waits this long at most, once a minute, for a receiver that is down
TIMEOUT_SECONDS = 5.0


def alert_text(alert: Mapping[str, Any], event: AlertEvent) -> str:
    what = "contractsync alert" if event == "raised" else "contractsync alert resolved"
    return f"{what} ({alert['kind']}): {alert['message']}"


class _HideAddress(logging.Filter):
    """Rewrites httpx's request lines that name `url` to name its scheme and host only."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = httpx.URL(url)
        self.shown = f"{self.url.scheme}://{self.url.netloc.decode('ascii')}/…"

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(arg == self.url for arg in record.args):
            record.args = tuple(self.shown if arg == self.url else arg for arg in record.args)
        return True


class AlertWebhook:
    def __init__(
        self, url: str, timeout: float = TIMEOUT_SECONDS, client: httpx.Client | None = None
    ) -> None:
        self._url = url
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._hidden = _HideAddress(url)
        logging.getLogger("httpx").addFilter(self._hidden)

    def notify(self, alert: Mapping[str, Any], event: AlertEvent) -> None:
        body = {"text": alert_text(alert, event), "event": event, "alert": dict(alert)}
        try:
            answer = self._client.post(self._url, json=body)
        except httpx.HTTPError as error:
            raise NotificationFailed(
                f"the alert webhook could not be reached ({type(error).__name__})"
            ) from None
        if not answer.is_success:
            raise NotificationFailed(f"the alert webhook answered HTTP {answer.status_code}")

    def close(self) -> None:
        logging.getLogger("httpx").removeFilter(self._hidden)
        self._client.close()
