"""Send each new alert to the operator's webhook once, and once more when it is resolved (X5:
a failure a person must hear of even when nobody watches the console or Prometheus).

Every worker (and `serve`) runs this each minute, after bringing the derived alerts up to date.
An alert's news — "raised": open, nobody has acknowledged it, not sent since it was (last)
raised; "resolved": resolved after it was sent, its resolution not sent yet — is claimed first
(`notify_claimed_at`, in a transaction of its own: of several workers, one takes it), then
posted, and only once the receiver accepted it is it sent (`notified_at` or
`resolution_notified_at`: what the API and the console show). A post that fails gives the claim
back, and the round stops there (the receiver is down: the rest wait for the next minute, in the
same order). A claim older than `CLAIM_SECONDS` is a worker's that died before it could say how
its post ended: the news is taken again and sent (at least once: twice if that worker's post had
gone through). An alert resolved and raised again is sent again; one acknowledged before it was
sent is not (a person has seen it), nor, then, its resolution.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from contractsync.ports.alert_notifier import AlertNotifier, NotificationFailed
from contractsync.ports.alerts import AlertEvent
from contractsync.service.alerting import alert_view
from contractsync.service.context import ServiceContext
from contractsync.service.retries import retried

log = logging.getLogger(__name__)

#: alerts sent per round at most (a first round after the webhook is configured sends what is open)
ROUND = 50
#: a claim this old is a dead worker's (a post gives up after 5 s): its news is taken again
CLAIM_SECONDS = 60


def notify_alerts(ctx: ServiceContext, notifier: AlertNotifier, limit: int = ROUND) -> int:
    """Send the alerts waiting to be sent; answer how many were sent."""

    def waiting() -> list[int]:
        with ctx.units() as uow:
            return [alert.id for alert in uow.alerts.to_notify(limit, _stale(ctx))]

    sent = 0
    for alert_id in retried(ctx.units, waiting):
        claimed = retried(ctx.units, partial(_claimed, ctx, alert_id))
        if claimed is None:  # another worker's, or acknowledged meanwhile
            continue
        event, alert = claimed
        try:
            notifier.notify(alert, event)
        except NotificationFailed as error:
            retried(ctx.units, partial(_release, ctx, alert_id))
            log.warning(
                "alert %s (%s) was not sent: %s; it is tried again in a minute", alert_id, event, error
            )
            break
        retried(ctx.units, partial(_sent, ctx, alert_id, event))
        sent += 1
    return sent


def _stale(ctx: ServiceContext) -> datetime:
    """Claims made before this are dead workers'."""
    return ctx.now() - timedelta(seconds=CLAIM_SECONDS)


def _claimed(ctx: ServiceContext, alert_id: int) -> tuple[AlertEvent, dict[str, object]] | None:
    """The news this call claimed and the alert as answered, if it claimed any."""
    with ctx.units() as uow:
        event = uow.alerts.claim_notification(alert_id, ctx.now(), _stale(ctx))
        alert = None if event is None else uow.alerts.alert(alert_id, None)
        if event is None or alert is None:
            return None
        if event == "raised" and alert.acknowledged_at is not None:
            # acknowledged since it was listed: a person has seen it; not sent (nor its resolution)
            uow.alerts.release_notification(alert_id)
            return None
        return event, alert_view(alert)


def _sent(ctx: ServiceContext, alert_id: int, event: AlertEvent) -> None:
    with ctx.units() as uow:
        uow.alerts.mark_notified(alert_id, event, ctx.now())


def _release(ctx: ServiceContext, alert_id: int) -> None:
    with ctx.units() as uow:
        uow.alerts.release_notification(alert_id)
