"""X5 alerts, every one stored: an id, when it was raised and resolved, who acknowledged it.

Some alerts are raised where they happen (a contract ending early, an adjustment outside the
contract, a paused connection, reconciliation drift or a reconciliation that could not read
Autotask, a daily sweep that failed: `sweep_alerts`). Others describe a condition that holds
now — a failed delivery (one per audit record, linked to its Retry), an unmapped subscription
of a mapped customer (or one whose contract service Autotask has not created yet, and why),
a request budget above 80 %, adjustments nobody delivered 10 minutes past due, a Partner Center
source whose polls fail, an API token near or past its expiry — and are brought up to date whenever the alerts are listed: new
ones are raised, those whose condition ended are resolved. An alert that comes back after being
resolved is raised again (new `raised_at`, acknowledgement cleared). Every one names a
connection or a subscription, or else (a Partner Center source's, a token's) its reseller: who
may see it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from contractsync.ports.alerts import (
    Alert,
    Alerts,
    FailedPoll,
    NewAlert,
    StalledDeliveries,
    UnmappedSubscription,
)
from contractsync.ports.api_tokens import StoredToken
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import views
from contractsync.service.context import ServiceContext
from contractsync.service.tokens import token_label

JSON = dict[str, Any]
BUDGET_ALERT_SHARE = 0.8
#: A Partner Center source whose polls fail: its seat changes are not seen.
POLL_FAILED = "partner_center_poll_failed"
#: Adjustments waiting this long past their due time are not being delivered: no worker running
#: (the likeliest), Autotask failing them for now, or the request budget holding them.
STALLED = "deliveries_stalled"
STALL_AFTER = timedelta(minutes=10)
#: An API token that expires within this long, or has expired and is not revoked: whoever uses it
#: (an integration sending changes) is refused, and what it would send never arrives.
TOKEN_EXPIRING = "token_expiring"
TOKEN_WARNING = timedelta(days=7)
#: Kinds kept up to date from the current state (resolved when their condition ends).
DERIVED_KINDS = ("out_of_sync", "unmapped_subscription", "api_budget", POLL_FAILED, STALLED, TOKEN_EXPIRING)


def dedupe_key(kind: str, connection_id: str | None, subscription_id: str | None, detail: str) -> str:
    return hashlib.sha256(f"{kind}|{connection_id}|{subscription_id}|{detail}".encode()).hexdigest()


def raise_alert(
    alerts: Alerts,
    kind: str,
    message: str,
    connection_id: str | None,
    subscription_id: str | None,
    now: datetime,
    *,
    detail: str = "",
    operation_id: int | None = None,
    reseller_id: str | None = None,
) -> int:
    """Raise (or raise again) the alert; answer its id. The message is updated to the latest.
    `reseller_id`: whose it is, when it names neither a connection nor a subscription."""
    key = dedupe_key(kind, connection_id, subscription_id, detail)
    return alerts.raise_alert(
        NewAlert(kind, message, connection_id, subscription_id, key, operation_id, reseller_id), now
    )


def resolve(
    alerts: Alerts,
    kind: str,
    connection_id: str | None,
    subscription_id: str | None,
    now: datetime,
    detail: str = "",
) -> None:
    alerts.resolve(dedupe_key(kind, connection_id, subscription_id, detail), now)


class _Condition(NamedTuple):
    """A condition holding now, as its alert: what `raise_alert` takes."""

    kind: str
    message: str
    connection_id: str | None
    subscription_id: str | None
    detail: str = ""
    operation_id: int | None = None
    reseller_id: str | None = None


def _derived(
    alerts: Alerts,
    usage: dict[str, float],
    now: datetime,
    customer: Callable[[str, str], str],
    tokens: Iterable[StoredToken],
) -> list[_Condition]:
    """Every condition holding now."""
    found: list[_Condition] = []
    for token in tokens:
        if token.expires_at is not None and token.expires_at - now <= TOKEN_WARNING:
            message = _token_expiring(token, now)
            found.append(
                _Condition(
                    TOKEN_EXPIRING, message, None, None, detail=str(token.id), reseller_id=token.reseller_id
                )
            )
    for failed in alerts.failed_deliveries():
        operation_id, subscription_id = failed.operation_id, failed.subscription_id
        message = (
            f"subscription {subscription_id} is out of sync: Autotask refused the adjustment of connection "
            f"operation #{operation_id}: {failed.error or 'delivery failed'}; retry it from the audit log"
        )
        found.append(
            _Condition(
                "out_of_sync", message, failed.connection_id, subscription_id, str(operation_id), operation_id
            )
        )
    for unmapped in alerts.unmapped_subscriptions():
        subscription_id = unmapped.subscription_id
        who = customer(unmapped.customer_id, unmapped.connection_id)
        message = f"subscription {subscription_id} of mapped customer {who} is {_mapping_state(unmapped)}"
        found.append(_Condition("unmapped_subscription", message, unmapped.connection_id, subscription_id))
    # At 80 % the budget starts spreading the requests left over the hour: work slows from then on.
    for connection_id, share in sorted(usage.items()):
        if share >= BUDGET_ALERT_SHARE:
            message = f"connection {connection_id} used {share:.0%} of its hourly Autotask request budget"
            found.append(_Condition("api_budget", message, connection_id, None))
    for stalled in alerts.stalled_deliveries(now - STALL_AFTER):
        found.append(_Condition(STALLED, _stalled(stalled), stalled.connection_id, None))
    for poll in alerts.failed_polls():
        # One failure between good polls is not news (it is tried again a minute later); two
        # polls' worth of time without a good one, or none ever, is.
        if poll.last_success is not None and now - poll.last_success < 2 * timedelta(
            minutes=poll.poll_minutes
        ):
            continue
        found.append(
            _Condition(
                POLL_FAILED,
                _poll_failed(poll),
                None,
                None,
                detail=poll.source_id,
                reseller_id=poll.reseller_id,
            )
        )
    return found


def _token_expiring(token: StoredToken, now: datetime) -> str:
    used = "never used" if token.last_used_at is None else f"last used {views.instant(token.last_used_at)}"
    when = views.instant(token.expires_at)
    if token.expires_at is not None and token.expires_at <= now:
        return (
            f"API token {token_label(token)} expired at {when} ({used}): whoever used it is refused. "
            f"Give them a new token (`contractsync tokens create`, or the console's Tokens page) and "
            f"revoke this one"
        )
    return (
        f"API token {token_label(token)} expires at {when} ({used}): whoever uses it is refused from "
        f"then on. Give them a new token before (`contractsync tokens create`, or the console's Tokens "
        f"page) and revoke this one"
    )


def _stalled(stalled: StalledDeliveries) -> str:
    what = "1 adjustment has" if stalled.count == 1 else f"{stalled.count} adjustments have"
    minutes = int(STALL_AFTER.total_seconds() // 60)
    return (
        f"connection {stalled.connection_id}: {what} waited more than {minutes} minutes for delivery "
        f"(the oldest due since {views.instant(stalled.oldest_due)}); Autotask does not have them yet. "
        f"Is a worker running (`contractsync worker`)? Else Autotask is failing them for now (their "
        f"errors are in the audit log) or the hourly request budget holds them"
    )


def _poll_failed(poll: FailedPoll) -> str:
    last = "none yet" if poll.last_success is None else views.instant(poll.last_success)
    return (
        f"Partner Center source {poll.source_id} cannot be polled: {poll.error or 'the poll failed'}; "
        f"its seat changes are not seen until a poll succeeds (tried again every minute; last "
        f"successful poll: {last})"
    )


def _mapping_state(unmapped: UnmappedSubscription) -> str:
    """Not mapped; or being mapped, and then why it is not done yet (a creation Autotask keeps
    failing is retried, hourly at most, until it lands: this is where a person learns of it)."""
    if not unmapped.creating:
        return "not mapped"
    state = "being mapped: Autotask has not created its contract service yet"
    if unmapped.creation_error is None:
        return state
    tries = "1 attempt" if unmapped.creation_attempts == 1 else f"{unmapped.creation_attempts} attempts"
    return f"{state} ({tries}; last answer: {unmapped.creation_error}); it is tried again"


def budget_usage(ctx: ServiceContext) -> dict[str, float]:
    """Each connection's share of its request budget used. Read before a unit of work opens: a
    shared budget reads in its own transaction, which would wait for that one on SQLite."""
    usage: dict[str, float] = getattr(ctx.connector_for, "budget_used", dict)()
    return usage


def customer_label(uow: UnitOfWork) -> Callable[[str, str], str]:
    """How an alert names a mapped customer: `c1 (Contoso, Autotask company Contoso Ltd #501)`,
    with the names stored (`autotask_names`); the id alone when none is known."""
    names: dict[str, dict[int, str]] = {}

    def label(customer_id: str, connection_id: str) -> str:
        found = uow.directory.customer(customer_id)
        mapped = uow.directory.customer_mapping(customer_id)
        if connection_id not in names:
            names[connection_id] = uow.autotask_names.names(connection_id)["company"]
        parts = [found.name] if found is not None and found.name else []
        if mapped is not None and mapped.connection_id == connection_id:
            company = names[connection_id].get(mapped.company_id)
            parts.append(f"Autotask company {company + ' ' if company else ''}#{mapped.company_id}")
        return f"{customer_id} ({', '.join(parts)})" if parts else customer_id

    return label


def refresh(
    ctx: ServiceContext,
    alerts: Alerts,
    usage: dict[str, float],
    customer: Callable[[str, str], str] | None = None,
    tokens: Iterable[StoredToken] = (),
) -> None:
    """Raise the derived alerts that hold now; resolve those that no longer do. `customer` names a
    customer in a message (`customer_label`; default: its id); `tokens`: the API tokens."""
    now = ctx.now()
    holding = set()
    for held in _derived(alerts, usage, now, customer or (lambda customer_id, _: customer_id), tokens):
        raise_alert(alerts, held.kind, held.message, held.connection_id, held.subscription_id, now,
                    detail=held.detail, operation_id=held.operation_id, reseller_id=held.reseller_id)  # fmt: skip
        holding.add(dedupe_key(held.kind, held.connection_id, held.subscription_id, held.detail))
    stale = alerts.open_keys(DERIVED_KINDS)
    alerts.resolve_ids([i for i, key in stale.items() if key not in holding], now)


def alert_view(row: Alert) -> JSON:
    return {
        **views.alert(row),
        "raised_at": views.instant(row.created_at),
        "resolved_at": views.instant(row.resolved_at),
        "acknowledged_at": views.instant(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
        "notified_at": views.instant(row.notified_at),
        "resolution_notified_at": views.instant(row.resolution_notified_at),
        "operation_id": row.operation_id,
        "retry": f"/v1/operations/{row.operation_id}/retry" if row.operation_id is not None else None,
    }
