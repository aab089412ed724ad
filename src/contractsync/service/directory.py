"""Resellers, connections, customers and subscriptions: create, read, list."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contractsync.adapters.db.pause_table import connection_pauses
from contractsync.adapters.db.tables import (
    connections,
    customers,
    manual_actions,
    resellers,
    subscription_mappings,
    subscriptions,
)
from contractsync.domain.bounds import MAX_QUANTITY
from contractsync.domain.enums import BillingCycle, OfferKind, Policy, PromotionSetting, Term
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import (
    ServiceContext,
    require_admin,
    visible_connection,
    visible_customer,
    visible_reseller,
    visible_subscription,
)
from contractsync.service.credentials_check import check_credentials
from contractsync.service.errors import Conflict, Invalid
from contractsync.service.sync_badge import SYNC_BADGES as ALL_SYNC_STATES
from contractsync.service.sync_badge import sync_badge

JSON = dict[str, Any]


def _insert(session: Session, table: Any, values: dict[str, Any], what: str) -> None:
    try:
        with session.begin_nested():
            session.execute(insert(table).values(**values))
    except IntegrityError:
        raise Conflict(f"{what} {values['id']} already exists") from None


def create_reseller(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    require_admin(actor)
    v.fields(body, {"id", "name"}, {"promotion_setting"})
    values: dict[str, Any] = {
        "id": v.text(body["id"], "id", 100),
        "name": v.text(body["name"], "name", 300),
        "promotion_setting": v.enum(
            PromotionSetting, body.get("promotion_setting", "pass_through"), "promotion_setting"
        ).value,
        "approved_through": None,
    }
    with ctx.unit_of_work() as uow:
        _insert(uow.session, resellers, values, "reseller")
        return views.reseller(visible_reseller(uow.session, actor, values["id"]))


def list_resellers(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.unit_of_work(commit=False) as uow:
        query = select(resellers).order_by(resellers.c.id)
        if actor.reseller_id is not None:
            query = query.where(resellers.c.id == actor.reseller_id)
        return [views.reseller(r) for r in uow.session.execute(query)]


def approve_billing(ctx: ServiceContext, actor: Actor, reseller_id: str, body: JSON) -> JSON:
    v.fields(body, {"approved_through"}, set())
    through = v.day(body["approved_through"], "approved_through", ctx.now().date())
    with ctx.unit_of_work() as uow:
        row = visible_reseller(uow.session, actor, reseller_id)
        if row.approved_through is not None and through < row.approved_through:
            raise Invalid(f"approved_through cannot move back from {row.approved_through.isoformat()}")
        uow.session.execute(
            update(resellers).where(resellers.c.id == reseller_id).values(approved_through=through)
        )
        return views.reseller(visible_reseller(uow.session, actor, reseller_id))


CONNECTION_FIELDS = {"id", "reseller_id", "kind", "username", "secret", "integration_code", "timezone"}


def create_connection(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """Stores the connection after checking its URL against the outbound allow-list, and answers
    it with `credentials_check`: what Autotask said to the new credentials."""
    v.fields(body, CONNECTION_FIELDS, {"base_url", "settle_seconds", "policies"})
    if body["kind"] != "autotask":
        raise Invalid("kind must be autotask")
    zone = v.text(body["timezone"], "timezone", 64)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"timezone is not a known IANA time zone: {zone!r}") from None
    policies_in = body.get("policies") or {}
    if not isinstance(policies_in, dict) or set(policies_in) - {
        "upgrade",
        "legacy_suspend",
        "reseller_change",
    }:
        raise Invalid("policies may name upgrade, legacy_suspend and reseller_change only")
    policies = {k: v.enum(Policy, value, f"policies.{k}").value for k, value in policies_in.items()}
    base_url = v.optional_text(body.get("base_url"), "base_url", 500)
    values: dict[str, Any] = {
        "id": v.text(body["id"], "id", 100),
        "reseller_id": v.text(body["reseller_id"], "reseller_id", 100),
        "kind": "autotask",
        "username": v.credential(body["username"], "username"),
        "secret_encrypted": ctx.secrets.encrypt(v.credential(body["secret"], "secret")),
        "integration_code": v.credential(body["integration_code"], "integration_code"),
        "base_url": None if base_url is None else ctx.outbound.api_root(base_url),
        "timezone": zone,
        "settle_seconds": v.integer(body.get("settle_seconds", 600), "settle_seconds", 0, 86_400),
        "policies": policies,
        "created_at": ctx.now(),
        "credentials_version": 1,
    }
    with ctx.unit_of_work(commit=False) as uow:
        visible_reseller(uow.session, actor, values["reseller_id"])  # before any call on its behalf
    checked = check_credentials(ctx, values)
    with ctx.unit_of_work() as uow:
        visible_reseller(uow.session, actor, values["reseller_id"])
        _insert(uow.session, connections, values, "connection")
        answer = views.connection(visible_connection(uow.session, actor, values["id"]))
    return answer | {"credentials_check": checked}


def update_credentials(ctx: ServiceContext, actor: Actor, connection_id: str, body: JSON) -> JSON:
    """New API credentials (e.g. after a rotated secret), checked with Autotask first. The
    connection's `credentials_version` goes up, so every process uses them from its next call. A
    connection paused because Autotask refused the old ones is probed at once; the first accepted
    call ends the pause."""
    v.fields(body, {"secret"}, {"username", "integration_code"})
    values: dict[str, Any] = {"secret_encrypted": ctx.secrets.encrypt(v.credential(body["secret"], "secret"))}
    for name in ("username", "integration_code"):
        if name in body:
            values[name] = v.credential(body[name], name)
    with ctx.unit_of_work(commit=False) as uow:
        current = visible_connection(uow.session, actor, connection_id)
    checked = check_credentials(ctx, {**current._asdict(), **values})
    with ctx.unit_of_work() as uow:
        session = uow.session
        visible_connection(session, actor, connection_id)
        session.execute(
            update(connections)
            .where(connections.c.id == connection_id)
            .values(**values, credentials_version=connections.c.credentials_version + 1)
        )
        session.execute(
            update(connection_pauses)
            .where(connection_pauses.c.connection_id == connection_id)
            .values(next_probe_at=ctx.now())
        )
        pause = session.execute(
            select(connection_pauses).where(connection_pauses.c.connection_id == connection_id)
        ).first()
        answer = views.connection(visible_connection(session, actor, connection_id), pause)
    return answer | {"credentials_check": checked}


def list_connections(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.unit_of_work(commit=False) as uow:
        query = select(connections).order_by(connections.c.id)
        if actor.reseller_id is not None:
            query = query.where(connections.c.reseller_id == actor.reseller_id)
        paused = {p.connection_id: p for p in uow.session.execute(select(connection_pauses))}
        return [views.connection(r, paused.get(r.id)) for r in uow.session.execute(query)]


def create_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, {"id", "reseller_id", "name"}, {"tenant_id", "provider_margins"})
    margins = body.get("provider_margins") or {}
    if not isinstance(margins, dict):
        raise Invalid("provider_margins must be an object of provider → percent")
    values: dict[str, Any] = {
        "id": v.text(body["id"], "id", 100),
        "reseller_id": v.text(body["reseller_id"], "reseller_id", 100),
        "name": v.text(body["name"], "name", 300),
        "tenant_id": v.optional_text(body.get("tenant_id"), "tenant_id", 100),
        "provider_margins": {
            v.text(k, "provider", 50): str(v.decimal(m, f"provider_margins.{k}", "-100", "1000"))
            for k, m in margins.items()
        },
    }
    with ctx.unit_of_work() as uow:
        visible_reseller(uow.session, actor, values["reseller_id"])
        _insert(uow.session, customers, values, "customer")
        return views.customer(uow.session, visible_customer(uow.session, actor, values["id"]))


def list_customers(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.unit_of_work(commit=False) as uow:
        query = select(customers).order_by(customers.c.id)
        if actor.reseller_id is not None:
            query = query.where(customers.c.reseller_id == actor.reseller_id)
        return [views.customer(uow.session, r) for r in uow.session.execute(query)]


SUBSCRIPTION_REQUIRED = {
    "id", "customer_id", "offer_id", "offer_name", "kind", "quantity", "term", "billing_cycle",
    "start_date", "end_date", "auto_renew", "list_price",
}  # fmt: skip
SUBSCRIPTION_OPTIONAL = {"friendly_name", "promotion", "price_margin_percent"}


def create_subscription(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, SUBSCRIPTION_REQUIRED, SUBSCRIPTION_OPTIONAL)
    start = v.day(body["start_date"], "start_date", ctx.now().date())
    end = v.end_day(body["end_date"], "end_date")
    if end < start:
        raise Invalid("end_date must not be before start_date")
    promotion = body.get("promotion")
    if promotion is not None and (
        not isinstance(promotion, dict) or set(promotion) != {"id", "discount_percent"}
    ):
        raise Invalid("promotion must be an object with id and discount_percent")
    margin = body.get("price_margin_percent")
    now = ctx.now()
    values: dict[str, Any] = {
        "id": v.text(body["id"], "id", 100),
        "customer_id": v.text(body["customer_id"], "customer_id", 100),
        "offer_id": v.text(body["offer_id"], "offer_id", 200),
        "offer_name": v.text(body["offer_name"], "offer_name", 300),
        "kind": v.enum(OfferKind, body["kind"], "kind").value,
        "quantity": v.integer(body["quantity"], "quantity", 0, MAX_QUANTITY),
        "status": "active",
        "term": v.enum(Term, body["term"], "term").value,
        "billing_cycle": v.enum(BillingCycle, body["billing_cycle"], "billing_cycle").value,
        "start_date": start,
        "end_date": end,
        "auto_renew": v.boolean(body["auto_renew"], "auto_renew"),
        "friendly_name": v.optional_text(body.get("friendly_name"), "friendly_name"),
        "list_price": v.decimal(body["list_price"], "list_price", "0", "1000000"),
        "promotion_id": None if promotion is None else v.text(promotion["id"], "promotion.id", 200),
        "promotion_discount_percent": None
        if promotion is None
        else v.decimal(promotion["discount_percent"], "promotion.discount_percent", "0", "100"),
        "price_margin_percent": None
        if margin is None
        else v.decimal(margin, "price_margin_percent", "-100", "1000"),
        "scheduled_next_term": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    with ctx.unit_of_work() as uow:
        customer = visible_customer(uow.session, actor, values["customer_id"])
        values["reseller_id"] = customer.reseller_id
        _insert(uow.session, subscriptions, values, "subscription")
        return subscription_view(uow.session, actor, values["id"])


def subscription_view(session: Session, actor: Actor, subscription_id: str) -> JSON:
    row = visible_subscription(session, actor, subscription_id)
    customer = session.execute(select(customers).where(customers.c.id == row.customer_id)).one()
    reseller = session.execute(select(resellers).where(resellers.c.id == row.reseller_id)).one()
    mapping = session.execute(
        select(subscription_mappings).where(subscription_mappings.c.subscription_id == subscription_id)
    ).first()
    open_actions = session.execute(
        select(func.count()).where(
            manual_actions.c.subscription_id == subscription_id, manual_actions.c.status == "open"
        )
    ).scalar_one()
    return views.subscription(
        row, customer, reseller, mapping, str(sync_badge(session, subscription_id)), int(open_actions)
    )


def get_subscription(ctx: ServiceContext, actor: Actor, subscription_id: str) -> JSON:
    with ctx.unit_of_work(commit=False) as uow:
        return subscription_view(uow.session, actor, subscription_id)


SYNC_STATES = set(ALL_SYNC_STATES)


def list_subscriptions(
    ctx: ServiceContext, actor: Actor, customer_id: str | None, state: str | None, page: int, page_size: int
) -> JSON:
    if state is not None and state not in SYNC_STATES:
        raise Invalid(f"sync_state must be one of {', '.join(sorted(SYNC_STATES))}")
    if page < 1 or not 1 <= page_size <= 200:
        raise Invalid("page must be ≥ 1 and page_size between 1 and 200")
    with ctx.unit_of_work(commit=False) as uow:
        query = select(subscriptions.c.id).order_by(subscriptions.c.id)
        if actor.reseller_id is not None:
            query = query.where(subscriptions.c.reseller_id == actor.reseller_id)
        if customer_id is not None:
            query = query.where(subscriptions.c.customer_id == customer_id)
        ids = [r.id for r in uow.session.execute(query)]
        items = [subscription_view(uow.session, actor, i) for i in ids]
        if state is not None:
            items = [item for item in items if item["sync_state"] == state]
        start = (page - 1) * page_size
        return {
            "items": items[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": len(items),
        }
