"""Resellers, connections, customers and subscriptions: create, read, list."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contractsync.domain.bounds import MAX_QUANTITY, URL_MAX_LENGTH
from contractsync.domain.enums import (
    BillingCycle,
    OfferKind,
    Policy,
    PromotionSetting,
    SubscriptionStatus,
    Term,
)
from contractsync.domain.model import Customer, Promotion, Reseller, Subscription
from contractsync.ports.directory import SYNC_BADGES, CredentialsChange, StoredConnection
from contractsync.ports.unit_of_work import UnitOfWork
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

JSON = dict[str, Any]


def _added(added: bool, what: str, key: str) -> None:
    if not added:
        raise Conflict(f"{what} {key} already exists")


def create_reseller(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    require_admin(actor)
    v.fields(body, {"id", "name"}, {"promotion_setting"})
    reseller = Reseller(
        id=v.text(body["id"], "id", 100),
        name=v.text(body["name"], "name", 300),
        promotion_setting=v.enum(
            PromotionSetting, body.get("promotion_setting", "pass_through"), "promotion_setting"
        ),
    )
    with ctx.units() as uow:
        _added(uow.directory.add_reseller(reseller), "reseller", reseller.id)
        return views.reseller(visible_reseller(uow.directory, actor, reseller.id))


def list_resellers(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        return [views.reseller(r) for r in uow.directory.resellers(actor.reseller_id)]


def approve_billing(ctx: ServiceContext, actor: Actor, reseller_id: str, body: JSON) -> JSON:
    v.fields(body, {"approved_through"}, set())
    through = v.day(body["approved_through"], "approved_through", ctx.now().date())
    with ctx.units() as uow:
        row = visible_reseller(uow.directory, actor, reseller_id)
        if row.approved_through is not None and through < row.approved_through:
            raise Invalid(f"approved_through cannot move back from {row.approved_through.isoformat()}")
        uow.directory.approve_billing(reseller_id, through)
        return views.reseller(visible_reseller(uow.directory, actor, reseller_id))


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
    base_url = v.optional_text(body.get("base_url"), "base_url", URL_MAX_LENGTH)
    connection = StoredConnection(
        id=v.text(body["id"], "id", 100),
        reseller_id=v.text(body["reseller_id"], "reseller_id", 100),
        kind="autotask",
        username=v.credential(body["username"], "username"),
        secret_encrypted=ctx.secrets.encrypt(v.credential(body["secret"], "secret")),
        integration_code=v.credential(body["integration_code"], "integration_code"),
        base_url=None if base_url is None else ctx.outbound.api_root(base_url),
        timezone=zone,
        settle_seconds=v.integer(body.get("settle_seconds", 600), "settle_seconds", 0, 86_400),
        policies=policies,
        created_at=ctx.now(),
    )
    with ctx.units(commit=False) as uow:
        visible_reseller(uow.directory, actor, connection.reseller_id)  # before any call on its behalf
    checked = check_credentials(ctx, vars(connection))
    with ctx.units() as uow:
        visible_reseller(uow.directory, actor, connection.reseller_id)
        _added(uow.directory.add_connection(connection), "connection", connection.id)
        answer = views.connection(visible_connection(uow.directory, actor, connection.id))
    return answer | {"credentials_check": checked}


def update_credentials(ctx: ServiceContext, actor: Actor, connection_id: str, body: JSON) -> JSON:
    """New API credentials (e.g. after a rotated secret), checked with Autotask first. The
    connection's `credentials_version` goes up, so every process uses them from its next call. A
    connection paused because Autotask refused the old ones is probed at once; the first accepted
    call ends the pause."""
    v.fields(body, {"secret"}, {"username", "integration_code"})
    change = CredentialsChange(
        secret_encrypted=ctx.secrets.encrypt(v.credential(body["secret"], "secret")),
        username=v.credential(body["username"], "username") if "username" in body else None,
        integration_code=v.credential(body["integration_code"], "integration_code")
        if "integration_code" in body
        else None,
    )
    with ctx.units(commit=False) as uow:
        current = visible_connection(uow.directory, actor, connection_id)
    checked = check_credentials(ctx, {**vars(current), **change.values()})
    with ctx.units() as uow:
        directory = uow.directory
        visible_connection(directory, actor, connection_id)
        directory.change_credentials(connection_id, change)
        directory.probe_now(connection_id, ctx.now())
        answer = views.connection(
            visible_connection(directory, actor, connection_id), directory.pause(connection_id)
        )
    return answer | {"credentials_check": checked}


def list_connections(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        paused = uow.directory.pauses()
        return [views.connection(r, paused.get(r.id)) for r in uow.directory.connections(actor.reseller_id)]


def create_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, {"id", "reseller_id", "name"}, {"tenant_id", "provider_margins"})
    margins = body.get("provider_margins") or {}
    if not isinstance(margins, dict):
        raise Invalid("provider_margins must be an object of provider → percent")
    customer = Customer(
        id=v.text(body["id"], "id", 100),
        reseller_id=v.text(body["reseller_id"], "reseller_id", 100),
        name=v.text(body["name"], "name", 300),
        tenant_id=v.optional_text(body.get("tenant_id"), "tenant_id", 100),
        provider_margins={
            v.text(k, "provider", 50): v.decimal(m, f"provider_margins.{k}", "-100", "1000")
            for k, m in margins.items()
        },
    )
    with ctx.units() as uow:
        visible_reseller(uow.directory, actor, customer.reseller_id)
        _added(uow.directory.add_customer(customer), "customer", customer.id)
        return _customer_view(uow, visible_customer(uow.directory, actor, customer.id))


def _customer_view(uow: UnitOfWork, customer: Customer) -> JSON:
    return views.customer(customer, uow.directory.customer_mapping(customer.id))


def list_customers(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        return [_customer_view(uow, c) for c in uow.directory.customers(actor.reseller_id)]


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
    subscription = Subscription(
        id=v.text(body["id"], "id", 100),
        customer_id=v.text(body["customer_id"], "customer_id", 100),
        reseller_id="",  # the customer's, below
        offer_id=v.text(body["offer_id"], "offer_id", 200),
        offer_name=v.text(body["offer_name"], "offer_name", 300),
        kind=v.enum(OfferKind, body["kind"], "kind"),
        quantity=v.integer(body["quantity"], "quantity", 0, MAX_QUANTITY),
        status=SubscriptionStatus.ACTIVE,
        term=v.enum(Term, body["term"], "term"),
        billing_cycle=v.enum(BillingCycle, body["billing_cycle"], "billing_cycle"),
        start_date=start,
        end_date=end,
        auto_renew=v.boolean(body["auto_renew"], "auto_renew"),
        friendly_name=v.optional_text(body.get("friendly_name"), "friendly_name"),
        list_price=v.decimal(body["list_price"], "list_price", "0", "1000000"),
        promotion=None
        if promotion is None
        else Promotion(
            v.text(promotion["id"], "promotion.id", 200),
            v.decimal(promotion["discount_percent"], "promotion.discount_percent", "0", "100"),
        ),
        price_margin_percent=None
        if margin is None
        else v.decimal(margin, "price_margin_percent", "-100", "1000"),
    )
    with ctx.units() as uow:
        customer = visible_customer(uow.directory, actor, subscription.customer_id)
        subscription = replace(subscription, reseller_id=customer.reseller_id)
        _added(uow.directory.add_subscription(subscription, ctx.now()), "subscription", subscription.id)
        return subscription_view(uow, actor, subscription.id)


def subscription_view(uow: UnitOfWork, actor: Actor, subscription_id: str) -> JSON:
    directory = uow.directory
    stored = visible_subscription(directory, actor, subscription_id)
    customer, reseller = (
        directory.customer(stored.value.customer_id),
        directory.reseller(stored.value.reseller_id),
    )
    assert customer is not None and reseller is not None  # foreign keys
    facts = views.SubscriptionFacts(
        customer,
        reseller,
        directory.subscription_mapping(subscription_id),
        directory.sync_badge(subscription_id),
        directory.open_manual_actions(subscription_id),
    )
    return views.subscription(stored, facts)


def get_subscription(ctx: ServiceContext, actor: Actor, subscription_id: str) -> JSON:
    with ctx.units(commit=False) as uow:
        return subscription_view(uow, actor, subscription_id)


def list_subscriptions(
    ctx: ServiceContext, actor: Actor, customer_id: str | None, state: str | None, page: int, page_size: int
) -> JSON:
    if state is not None and state not in SYNC_BADGES:
        raise Invalid(f"sync_state must be one of {', '.join(sorted(SYNC_BADGES))}")
    if page < 1 or not 1 <= page_size <= 200:
        raise Invalid("page must be ≥ 1 and page_size between 1 and 200")
    with ctx.units(commit=False) as uow:
        ids = uow.directory.subscription_ids(actor.reseller_id, customer_id)
        items = [subscription_view(uow, actor, i) for i in ids]
        if state is not None:
            items = [item for item in items if item["sync_state"] == state]
        start = (page - 1) * page_size
        return {
            "items": items[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": len(items),
        }
