"""Unit cost and unit price of a subscription (SPEC §1, Pricing). All `Decimal`, 4 places at the PSA."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from contractsync.domain.enums import PromotionSetting
from contractsync.domain.model import Customer, Subscription
from contractsync.domain.money import HUNDRED, to_psa


@dataclass(frozen=True)
class UnitPricing:
    unit_price: Decimal
    unit_cost: Decimal


def margin_in_force(subscription: Subscription, customer: Customer) -> Decimal:
    """Custom subscription margin, else the customer's margin for the provider, else 0."""
    if subscription.price_margin_percent is not None:
        return subscription.price_margin_percent
    return customer.provider_margins.get(subscription.provider, Decimal(0))


def unit_pricing(
    subscription: Subscription, customer: Customer, promotion_setting: PromotionSetting
) -> UnitPricing:
    list_price = subscription.list_price
    if subscription.promotion is not None:
        cost = list_price * (1 - subscription.promotion.discount_percent / HUNDRED)
    else:
        cost = list_price
    base = cost if promotion_setting is PromotionSetting.PASS_THROUGH else list_price
    price = base * (1 + margin_in_force(subscription, customer) / HUNDRED)
    return UnitPricing(unit_price=to_psa(price), unit_cost=to_psa(cost))
