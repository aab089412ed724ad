"""X5 alerts, every one stored: an id, when it was raised and resolved, who acknowledged it.

Some alerts are raised where they happen (a contract ending early, an adjustment outside the
contract, a paused connection, reconciliation drift). Others describe a condition that holds
now — a failed delivery (one per audit record, linked to its Retry), an unmapped subscription
of a mapped customer, a request budget above 80 % — and are brought up to date whenever the
alerts are listed: new ones are raised, those whose condition ended are resolved. An alert
that comes back after being resolved is raised again (new `raised_at`, acknowledgement cleared).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contractsync.adapters.db.reconciliation_tables import alert_follow_up
from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.tables import (
    adjustments,
    alerts,
    connections,
    customer_mappings,
    subscription_mappings,
    subscriptions,
)
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid, NotFound

JSON = dict[str, Any]
BUDGET_ALERT_SHARE = 0.8
#: Kinds kept up to date from the current state (resolved when their condition ends).
DERIVED_KINDS = ("out_of_sync", "unmapped_subscription", "api_budget")
STATES = ("open", "acknowledged", "resolved", "all")


def dedupe_key(kind: str, connection_id: str | None, subscription_id: str | None, detail: str) -> str:
    return hashlib.sha256(f"{kind}|{connection_id}|{subscription_id}|{detail}".encode()).hexdigest()


def raise_alert(
    session: Session,
    kind: str,
    message: str,
    connection_id: str | None,
    subscription_id: str | None,
    now: datetime,
    *,
    detail: str = "",
    operation_id: int | None = None,
) -> int:
    """Raise (or raise again) the alert; answer its id. The message is updated to the latest."""
    key = dedupe_key(kind, connection_id, subscription_id, detail)
    dialect = postgresql if is_postgres(session) else sqlite
    row = session.execute(select(alerts.c.id, alerts.c.resolved_at).where(alerts.c.dedupe_key == key)).first()
    if row is None:
        # Two callers may raise the same alert at once: the unique key keeps one row.
        session.execute(
            dialect.insert(alerts)
            .values(kind=kind, message=message, connection_id=connection_id,
                    subscription_id=subscription_id, created_at=now, dedupe_key=key)
            .on_conflict_do_nothing()
        )  # fmt: skip
        alert_id = int(session.execute(select(alerts.c.id).where(alerts.c.dedupe_key == key)).scalar_one())
        session.execute(
            dialect.insert(alert_follow_up)
            .values(alert_id=alert_id, operation_id=operation_id)
            .on_conflict_do_nothing()
        )
        return alert_id
    alert_id = int(row.id)
    values: dict[str, Any] = {"message": message}
    if row.resolved_at is not None:
        values.update(created_at=now, resolved_at=None)
        session.execute(delete(alert_follow_up).where(alert_follow_up.c.alert_id == alert_id))
        session.execute(alert_follow_up.insert().values(alert_id=alert_id, operation_id=operation_id))
    session.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
    return alert_id


def resolve(
    session: Session,
    kind: str,
    connection_id: str | None,
    subscription_id: str | None,
    now: datetime,
    detail: str = "",
) -> None:
    key = dedupe_key(kind, connection_id, subscription_id, detail)
    session.execute(
        update(alerts)
        .where(alerts.c.dedupe_key == key, alerts.c.resolved_at.is_(None))
        .values(resolved_at=now)
    )


def _derived(
    session: Session, usage: dict[str, float]
) -> list[tuple[str, str, str | None, str | None, str, int | None]]:
    """(kind, message, connection, subscription, detail, operation) of every condition holding now."""
    found: list[tuple[str, str, str | None, str | None, str, int | None]] = []
    failed = session.execute(
        select(adjustments.c.operation_id, adjustments.c.subscription_id, adjustments.c.connection_id,
               func.max(adjustments.c.error))
        .where(adjustments.c.status == "failed")
        .group_by(adjustments.c.operation_id, adjustments.c.subscription_id, adjustments.c.connection_id)
    ).all()  # fmt: skip
    for operation_id, subscription_id, connection_id, error in failed:
        message = (
            f"subscription {subscription_id} is out of sync: Autotask refused the adjustment of connection "
            f"operation #{operation_id}: {error or 'delivery failed'}; retry it from the audit log"
        )
        found.append(
            ("out_of_sync", message, connection_id, subscription_id, str(operation_id), operation_id)
        )
    unmapped = session.execute(
        select(subscriptions.c.id, customer_mappings.c.connection_id, subscriptions.c.customer_id)
        .join(customer_mappings, customer_mappings.c.customer_id == subscriptions.c.customer_id)
        .outerjoin(subscription_mappings, subscription_mappings.c.subscription_id == subscriptions.c.id)
        .where(
            subscription_mappings.c.subscription_id.is_(None),
            subscriptions.c.status.in_(["active", "suspended"]),
        )
    ).all()
    for subscription_id, connection_id, customer_id in unmapped:
        message = f"subscription {subscription_id} of mapped customer {customer_id} is not mapped"
        found.append(("unmapped_subscription", message, connection_id, subscription_id, "", None))
    # At 80 % the budget starts spreading the requests left over the hour: work slows from then on.
    for connection_id, share in sorted(usage.items()):
        if share >= BUDGET_ALERT_SHARE:
            message = f"connection {connection_id} used {share:.0%} of its hourly Autotask request budget"
            found.append(("api_budget", message, connection_id, None, "", None))
    return found


def budget_usage(ctx: ServiceContext) -> dict[str, float]:
    """Each connection's share of its request budget used. Read before a unit of work opens: a
    shared budget reads in its own transaction, which would wait for that one on SQLite."""
    usage: dict[str, float] = getattr(ctx.connector_for, "budget_used", dict)()
    return usage


def refresh(ctx: ServiceContext, session: Session, usage: dict[str, float]) -> None:
    """Raise the derived alerts that hold now; resolve those that no longer do."""
    now = ctx.now()
    holding = set()
    for kind, message, connection_id, subscription_id, detail, operation_id in _derived(session, usage):
        raise_alert(session, kind, message, connection_id, subscription_id, now,
                    detail=detail, operation_id=operation_id)  # fmt: skip
        holding.add(dedupe_key(kind, connection_id, subscription_id, detail))
    stale = session.execute(
        select(alerts.c.id, alerts.c.dedupe_key).where(
            alerts.c.kind.in_(DERIVED_KINDS), alerts.c.resolved_at.is_(None)
        )
    ).all()
    ended = [r.id for r in stale if r.dedupe_key not in holding]
    if ended:
        session.execute(update(alerts).where(alerts.c.id.in_(ended)).values(resolved_at=now))


def _visible(actor: Actor, query: Any) -> Any:
    if actor.reseller_id is None:
        return query
    own_connections = select(connections.c.id).where(connections.c.reseller_id == actor.reseller_id)
    own_subscriptions = select(subscriptions.c.id).where(subscriptions.c.reseller_id == actor.reseller_id)
    return query.where(
        alerts.c.connection_id.in_(own_connections) | alerts.c.subscription_id.in_(own_subscriptions)
    )


def list_alerts(ctx: ServiceContext, actor: Actor, state: str = "open") -> list[JSON]:
    """Alerts in a state: `open` (unresolved, acknowledged or not), `acknowledged`, `resolved`, `all`."""
    if state not in STATES:
        raise Invalid(f"state must be one of {', '.join(STATES)}")
    usage = budget_usage(ctx)
    with ctx.unit_of_work() as uow:
        session = uow.session
        refresh(ctx, session, usage)
        query = _visible(
            actor,
            select(alerts, alert_follow_up.c.operation_id, alert_follow_up.c.acknowledged_at,
                   alert_follow_up.c.acknowledged_by)
            .outerjoin(alert_follow_up, alert_follow_up.c.alert_id == alerts.c.id)
            .order_by(alerts.c.id.desc()),
        )  # fmt: skip
        if state in ("open", "acknowledged"):
            query = query.where(alerts.c.resolved_at.is_(None))
        if state == "acknowledged":
            query = query.where(alert_follow_up.c.acknowledged_at.is_not(None))
        if state == "resolved":
            query = query.where(alerts.c.resolved_at.is_not(None))
        return [alert_view(r) for r in session.execute(query)]


def alert_view(row: Any) -> JSON:
    return {
        **views.alert(row),
        "raised_at": views.instant(row.created_at),
        "resolved_at": views.instant(row.resolved_at),
        "acknowledged_at": views.instant(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
        "operation_id": row.operation_id,
        "retry": f"/v1/operations/{row.operation_id}/retry" if row.operation_id is not None else None,
    }


def acknowledge(ctx: ServiceContext, actor: Actor, alert_id: int) -> JSON:
    """Someone has seen the alert; it stays listed (open) until its condition ends."""
    with ctx.unit_of_work() as uow:
        session = uow.session
        found = session.execute(_visible(actor, select(alerts.c.id).where(alerts.c.id == alert_id))).first()
        if found is None:
            raise NotFound(f"alert {alert_id} not found")
        by = "admin" if actor.reseller_id is None else f"reseller:{actor.reseller_id}"
        follow = session.execute(
            select(alert_follow_up).where(alert_follow_up.c.alert_id == alert_id)
        ).first()
        if follow is None:
            session.execute(alert_follow_up.insert().values(alert_id=alert_id, acknowledged_at=ctx.now(),
                                                            acknowledged_by=by))  # fmt: skip
        elif follow.acknowledged_at is None:
            session.execute(
                update(alert_follow_up)
                .where(alert_follow_up.c.alert_id == alert_id)
                .values(acknowledged_at=ctx.now(), acknowledged_by=by)
            )
        row = session.execute(
            select(alerts, alert_follow_up.c.operation_id, alert_follow_up.c.acknowledged_at,
                   alert_follow_up.c.acknowledged_by)
            .outerjoin(alert_follow_up, alert_follow_up.c.alert_id == alerts.c.id)
            .where(alerts.c.id == alert_id)
        ).one()  # fmt: skip
        return alert_view(row)
