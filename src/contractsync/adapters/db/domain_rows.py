"""Conversions between table rows and domain values (subscriptions, customers, contracts, ...)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.domain.enums import (
    BillingCycle,
    ContractPeriodType,
    E,
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
    r = row._mapping  # see `subscription`
    return SubscriptionMapping(
        r["subscription_id"],
        r["contract_id"],
        r["contract_service_id"],
        r["created_at"],
        r["mapped_on"],
        r["service_id"],
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


def _members_by_value(kind: type[E]) -> dict[str, E]:
    """Enum members by stored value: a dict look-up costs a tenth of calling the enum."""
    return {member.value: member for member in kind}


_KINDS, _STATUSES = _members_by_value(OfferKind), _members_by_value(SubscriptionStatus)
_TERMS, _CYCLES = _members_by_value(Term), _members_by_value(BillingCycle)


def subscription(row: Any) -> Subscription:
    # One mapping look-up per column: attribute access on a Row costs several times more, and a
    # sweep converts thousands of rows.
    r = row._mapping
    promotion = None
    if r["promotion_id"] is not None or r["promotion_discount_percent"] is not None:
        promotion = Promotion(r["promotion_id"] or "", r["promotion_discount_percent"] or Decimal(0))
    return Subscription(
        id=r["id"],
        customer_id=r["customer_id"],
        reseller_id=r["reseller_id"],
        offer_id=r["offer_id"],
        offer_name=r["offer_name"],
        kind=_KINDS[r["kind"]],
        quantity=r["quantity"],
        status=_STATUSES[r["status"]],
        term=_TERMS[r["term"]],
        billing_cycle=_CYCLES[r["billing_cycle"]],
        start_date=r["start_date"],
        end_date=r["end_date"],
        auto_renew=r["auto_renew"],
        list_price=r["list_price"],
        friendly_name=r["friendly_name"],
        promotion=promotion,
        price_margin_percent=r["price_margin_percent"],
        scheduled_next_term=next_term_from_json(r["scheduled_next_term"]),
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


#: Money columns (exact text); JSON holds them, and the dates, as strings.
_MONEY = ("list_price", "promotion_discount_percent", "price_margin_percent")


#: Subscription fields stored in columns of other names (none for `provider`).
_COLUMNS_OF_FIELD = {"promotion": ("promotion_id", "promotion_discount_percent"), "provider": ()}


def changed_values(
    before: Subscription | None, after: Subscription, values: dict[str, Any]
) -> dict[str, Any]:
    """Of `after`'s column `values`, those of the fields that differ from `before` (all without it).

    Money by its exact text too: 10.0 and 10.00 are equal Decimals, but stored as they are."""
    if before is None:
        return dict(values)
    old = vars(before)
    changes = {}
    for field, new in vars(after).items():
        was = old[field]
        # A field a rule did not touch is the very same object: most end at `is`.
        if new is was or (new == was and str(new) == str(was)):
            continue
        for column in _COLUMNS_OF_FIELD.get(field, (field,)):
            changes[column] = values[column]
    return changes


def snapshot(value: Subscription, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """JSON-ready history snapshot; `values` are `subscription_values(value)` when already at hand."""
    result = {"id": value.id, **(subscription_values(value) if values is None else values)}
    result["start_date"] = value.start_date.isoformat()
    result["end_date"] = value.end_date.isoformat()
    for key in _MONEY:
        if result[key] is not None:
            result[key] = str(result[key])
    return result


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
