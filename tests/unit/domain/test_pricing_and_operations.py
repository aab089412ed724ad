from datetime import date
from decimal import Decimal

import pytest

from contractsync.domain.enums import BillingCycle, OfferKind, PromotionSetting, SubscriptionStatus, Term
from contractsync.domain.model import Customer, Promotion, Subscription
from contractsync.domain.operations import InvalidInput, UpdateQuantity, parse_operation
from contractsync.domain.pricing import unit_pricing

CUSTOMER = Customer("c1", "r1", "Contoso", provider_margins={"microsoft": Decimal("20")})


def subscription(**changes: object) -> Subscription:
    base: dict[str, object] = dict(
        id="s1", customer_id="c1", reseller_id="r1", offer_id="A:B:C", offer_name="E5", kind=OfferKind.NCE,
        quantity=10, status=SubscriptionStatus.ACTIVE, term=Term.P1Y, billing_cycle=BillingCycle.MONTHLY,
        start_date=date(2024, 1, 1), end_date=date(2024, 12, 31), auto_renew=True, list_price=Decimal("10.00"),
    )  # fmt: skip
    base.update(changes)
    return Subscription(**base)  # type: ignore[arg-type]


def test_price_rounds_half_up_to_four_places() -> None:
    pricing = unit_pricing(subscription(list_price=Decimal("0.33335"), price_margin_percent=Decimal("0")),
                           CUSTOMER, PromotionSetting.PASS_THROUGH)  # fmt: skip
    assert pricing.unit_price == Decimal("0.3334")


def test_custom_margin_wins_over_customer_margin_and_promotion_follows_the_setting() -> None:
    promoted = subscription(promotion=Promotion("p", Decimal("15")), price_margin_percent=Decimal("12.5"))
    passed = unit_pricing(promoted, CUSTOMER, PromotionSetting.PASS_THROUGH)
    kept = unit_pricing(promoted, CUSTOMER, PromotionSetting.KEEP)
    assert (passed.unit_cost, passed.unit_price) == (Decimal("8.5000"), Decimal("9.5625"))
    assert (kept.unit_cost, kept.unit_price) == (Decimal("8.5000"), Decimal("11.2500"))


def test_operation_parsing_defaults_the_date_and_refuses_bad_fields() -> None:
    op = parse_operation("s1", {"type": "update_quantity", "quantity": 3}, date(2024, 5, 1))
    assert op == UpdateQuantity("s1", date(2024, 5, 1), 3)
    for body, field in [
        ({"type": "update_quantity", "quantity": True}, "quantity"),
        ({"type": "update_quantity", "quantity": 2.0}, "quantity"),
        ({"type": "update_quantity"}, "quantity"),
        ({"type": "update_quantity", "quantity": 1, "colour": "red"}, "colour"),
        ({"type": "update_price_margin", "margin_percent": "lots"}, "margin_percent"),
        ({"type": "update_price_margin", "margin_percent": 12.5}, "margin_percent"),
        ({"type": "update_billing_cycle", "billing_cycle": "weekly"}, "billing_cycle"),
        ({"type": "explode"}, "type"),
        ({"type": "cancel", "effective_date": "2024-02-30"}, "effective_date"),
    ]:
        with pytest.raises(InvalidInput, match=field):
            parse_operation("s1", body, date(2024, 5, 1))
