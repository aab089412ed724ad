"""Create a subscription of a customer (its reseller is the customer's)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from contractsync.domain.bounds import MAX_QUANTITY
from contractsync.domain.enums import BillingCycle, OfferKind, SubscriptionStatus, Term
from contractsync.domain.model import Promotion, Subscription
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer
from contractsync.service.directory_queries import subscription_view
from contractsync.service.errors import Invalid
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]

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
        require_new(uow.directory.add_subscription(subscription, ctx.now()), "subscription", subscription.id)
        return subscription_view(uow, actor, subscription.id)
