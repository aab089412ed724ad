"""Create a subscription of a customer (its reseller is the customer's)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from contractsync.domain.bounds import check_date
from contractsync.domain.commands import CreateSubscription
from contractsync.domain.enums import SubscriptionStatus
from contractsync.domain.model import Subscription
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer
from contractsync.service.directory_queries import subscription_view
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]

SUBSCRIPTION_REQUIRED = {
    "id", "customer_id", "offer_id", "offer_name", "kind", "quantity", "term", "billing_cycle",
    "start_date", "end_date", "auto_renew", "list_price",
}  # fmt: skip
SUBSCRIPTION_OPTIONAL = {"friendly_name", "promotion", "price_margin_percent"}


def create_subscription(ctx: ServiceContext, actor: Actor, command: CreateSubscription | JSON) -> JSON:
    """`command`: built by the API from its body, or the API.md body itself (an import, the demo)."""
    if not isinstance(command, CreateSubscription):
        command = read_command(command)
    new = command
    v.check(lambda: check_date(new.start_date, "start_date", ctx.now().date()))
    subscription = Subscription(
        id=new.id,
        customer_id=new.customer_id,
        reseller_id="",  # the customer's, below
        offer_id=new.offer_id,
        offer_name=new.offer_name,
        kind=new.kind,
        quantity=new.quantity,
        status=SubscriptionStatus.ACTIVE,
        term=new.term,
        billing_cycle=new.billing_cycle,
        start_date=new.start_date,
        end_date=new.end_date,
        auto_renew=new.auto_renew,
        friendly_name=new.friendly_name,
        list_price=new.list_price,
        promotion=new.promotion,
        price_margin_percent=new.price_margin_percent,
    )
    with ctx.units() as uow:
        customer = visible_customer(uow.directory, actor, subscription.customer_id)
        subscription = replace(subscription, reseller_id=customer.reseller_id)
        require_new(uow.directory.add_subscription(subscription, ctx.now()), "subscription", subscription.id)
        return subscription_view(uow, actor, subscription.id)


def read_command(body: JSON) -> CreateSubscription:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, SUBSCRIPTION_REQUIRED, SUBSCRIPTION_OPTIONAL)
    return v.check(lambda: CreateSubscription.build(**body))
