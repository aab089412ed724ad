"""Conversions between table rows and domain values (subscriptions, customers, contracts, ...)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.domain.enums import (
    BillingCycle,
    ContractPeriodType,
    OfferKind,
    Policy,
    PromotionSetting,
    SubscriptionStatus,
    Term,
)
from contractsync.domain.model import (
    ConnectionSettings,
    Contract,
    Customer,
    NextTerm,
    Policies,
    Promotion,
    Reseller,
    Subscription,
    SubscriptionMapping,
)
from contractsync.domain.schedule import Intent


def reseller(row: Any) -> Reseller:
    return Reseller(row.id, row.name, PromotionSetting(row.promotion_setting), row.approved_through)


def customer(row: Any) -> Customer:
    margins = {k: Decimal(v) for k, v in (row.provider_margins or {}).items()}
    return Customer(row.id, row.reseller_id, row.name, row.tenant_id, margins)


def connection(row: Any) -> ConnectionSettings:
    policies = {k: Policy(v) for k, v in (row.policies or {}).items()}
    return ConnectionSettings(row.id, row.timezone, row.settle_seconds, Policies(**policies))


def contract(row: Any) -> Contract:
    return Contract(
        row.contract_id, row.start_date, row.end_date, ContractPeriodType(row.period_type), row.posted_through
    )


def mapping(row: Any) -> SubscriptionMapping:
    return SubscriptionMapping(
        row.subscription_id,
        row.contract_id,
        row.contract_service_id,
        row.created_at,
        row.mapped_on,
        row.service_id,
    )


def next_term_to_json(value: NextTerm | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "quantity": value.quantity,
        "offer_id": value.offer_id,
        "term": value.term.value if value.term else None,
        "billing_cycle": value.billing_cycle.value if value.billing_cycle else None,
        "list_price": str(value.list_price) if value.list_price is not None else None,
    }


def next_term_from_json(value: dict[str, Any] | None) -> NextTerm | None:
    if not value:
        return None
    return NextTerm(
        quantity=value.get("quantity"),
        offer_id=value.get("offer_id"),
        term=Term(value["term"]) if value.get("term") else None,
        billing_cycle=BillingCycle(value["billing_cycle"]) if value.get("billing_cycle") else None,
        list_price=Decimal(value["list_price"]) if value.get("list_price") is not None else None,
    )


def subscription(row: Any) -> Subscription:
    promotion = None
    if row.promotion_id is not None or row.promotion_discount_percent is not None:
        promotion = Promotion(row.promotion_id or "", row.promotion_discount_percent or Decimal(0))
    return Subscription(
        id=row.id,
        customer_id=row.customer_id,
        reseller_id=row.reseller_id,
        offer_id=row.offer_id,
        offer_name=row.offer_name,
        kind=OfferKind(row.kind),
        quantity=row.quantity,
        status=SubscriptionStatus(row.status),
        term=Term(row.term),
        billing_cycle=BillingCycle(row.billing_cycle),
        start_date=row.start_date,
        end_date=row.end_date,
        auto_renew=row.auto_renew,
        list_price=row.list_price,
        friendly_name=row.friendly_name,
        promotion=promotion,
        price_margin_percent=row.price_margin_percent,
        scheduled_next_term=next_term_from_json(row.scheduled_next_term),
    )


def subscription_values(value: Subscription) -> dict[str, Any]:
    """Column values of a subscription (without id, version and timestamps)."""
    return {
        "customer_id": value.customer_id,
        "reseller_id": value.reseller_id,
        "offer_id": value.offer_id,
        "offer_name": value.offer_name,
        "kind": value.kind.value,
        "quantity": value.quantity,
        "status": value.status.value,
        "term": value.term.value,
        "billing_cycle": value.billing_cycle.value,
        "start_date": value.start_date,
        "end_date": value.end_date,
        "auto_renew": value.auto_renew,
        "friendly_name": value.friendly_name,
        "list_price": value.list_price,
        "promotion_id": value.promotion.id if value.promotion else None,
        "promotion_discount_percent": value.promotion.discount_percent if value.promotion else None,
        "price_margin_percent": value.price_margin_percent,
        "scheduled_next_term": next_term_to_json(value.scheduled_next_term),
    }


def snapshot(value: Subscription) -> dict[str, Any]:
    """JSON-ready history snapshot."""
    values = subscription_values(value)
    return {
        "id": value.id,
        **{
            k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
            for k, v in values.items()
        },
    }


def intents_to_json(intents: dict[date, Intent]) -> list[dict[str, Any]]:
    return [
        {
            "date": day.isoformat(),
            "units": intent.units,
            "unit_price": None if intent.unit_price is None else str(intent.unit_price),
            "unit_cost": None if intent.unit_cost is None else str(intent.unit_cost),
        }
        for day, intent in sorted(intents.items())
    ]


def intents_from_json(items: list[dict[str, Any]]) -> dict[date, Intent]:
    result: dict[date, Intent] = {}
    for item in items:
        day = date.fromisoformat(item["date"])
        price, cost = item.get("unit_price"), item.get("unit_cost")
        result[day] = Intent(
            day,
            item.get("units"),
            None if price is None else Decimal(price),
            None if cost is None else Decimal(cost),
        )
    return result
