"""Send each new alert to the operator's webhook once (X5: a failure a person must hear of even
when nobody watches the console or Prometheus).

Every worker runs this each minute, after bringing the derived alerts up to date. An open alert
that nobody has acknowledged and that was not sent since it was (last) raised is claimed first
(its `notified_at` set, in a transaction of its own: of several workers, one claims it), then
posted. A post that fails gives the claim back, and the round stops there (the receiver is down:
the rest wait for the next minute, in the same order). A worker that dies between its claim and
its post loses that one notification: the alert itself stays open in the console, the API and
`/metrics`. An alert resolved and raised again is sent again; an acknowledged one is not (a
person has seen it).
"""

from __future__ import annotations

import logging
from functools import partial

from contractsync.ports.alert_notifier import AlertNotifier, NotificationFailed
from contractsync.service.alerting import alert_view
from contractsync.service.context import ServiceContext
from contractsync.service.retries import retried

log = logging.getLogger(__name__)

#: alerts sent per round at most (a first round after the webhook is configured sends what is open)
ROUND = 50


def notify_alerts(ctx: ServiceContext, notifier: AlertNotifier, limit: int = ROUND) -> int:
    """Send the alerts waiting to be sent; answer how many were sent."""

    def waiting() -> list[int]:
        with ctx.units() as uow:
            return [alert.id for alert in uow.alerts.to_notify(limit)]

    sent = 0
    for alert_id in retried(ctx.units, waiting):
        alert = retried(ctx.units, partial(_claimed, ctx, alert_id))
        if alert is None:  # another worker's, resolved or acknowledged meanwhile
            continue
        try:
            notifier.notify(alert)
        except NotificationFailed as error:
            retried(ctx.units, partial(_release, ctx, alert_id))
            log.warning("alert %s was not sent: %s; it is tried again in a minute", alert_id, error)
            break
        sent += 1
    return sent


def _claimed(ctx: ServiceContext, alert_id: int) -> dict[str, object] | None:
    """The alert as answered, if this call claimed it."""
    with ctx.units() as uow:
        if not uow.alerts.claim_notification(alert_id, ctx.now()):
            return None
        alert = uow.alerts.alert(alert_id, None)
        # acknowledged since it was listed: a person has seen it (it stays claimed, not sent)
        return None if alert is None or alert.acknowledged_at is not None else alert_view(alert)


def _release(ctx: ServiceContext, alert_id: int) -> None:
    with ctx.units() as uow:
        uow.alerts.release_notification(alert_id)
