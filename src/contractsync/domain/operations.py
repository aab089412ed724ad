"""Operations (commands) as plain dataclasses, and their parsing from JSON-like input.

Parsing checks shape and types and names the offending field (`InvalidInput`); whether an
operation makes sense for the subscription's state is the rules' job (`OperationRefused`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.domain.bounds import check_date, check_end_date, check_number_text, check_plain_text
from contractsync.domain.enums import BillingCycle, Term, parse_enum
from contractsync.domain.money import to_decimal


class InvalidInput(ValueError):
    """Input of the wrong shape or type; the message names the field."""


class OperationRefused(Exception):
    """A well-formed operation that the subscription's state does not allow. Nothing changes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SubscriptionOperation:
    subscription_id: str
    effective_date: date


@dataclass(frozen=True)
class UpdateQuantity(SubscriptionOperation):
    quantity: int


@dataclass(frozen=True)
class UpdatePriceMargin(SubscriptionOperation):
    margin_percent: Decimal | None


@dataclass(frozen=True)
class Cancel(SubscriptionOperation):
    pass


@dataclass(frozen=True)
class Suspend(SubscriptionOperation):
    pass


@dataclass(frozen=True)
class Reactivate(SubscriptionOperation):
    pass


@dataclass(frozen=True)
class UpdateBillingCycle(SubscriptionOperation):
    billing_cycle: BillingCycle


@dataclass(frozen=True)
class UpdateFriendlyName(SubscriptionOperation):
    friendly_name: str | None


@dataclass(frozen=True)
class UpdateAutoRenew(SubscriptionOperation):
    auto_renew: bool


@dataclass(frozen=True)
class Renew(SubscriptionOperation):
    """The term renewed: the new term starts on `effective_date` and ends on `end_date`."""

    end_date: date
    quantity: int | None = None
    list_price: Decimal | None = None
    offer_id: str | None = None
    term: Term | None = None
    billing_cycle: BillingCycle | None = None


@dataclass(frozen=True)
class Expire(SubscriptionOperation):
    pass


@dataclass(frozen=True)
class Upgrade(SubscriptionOperation):
    target_subscription_id: str
    quantity: int


@dataclass(frozen=True)
class ChangeReseller(SubscriptionOperation):
    reseller_id: str
    customer_id: str


@dataclass(frozen=True)
class UpdateProviderMargin:
    customer_id: str
    provider: str
    margin_percent: Decimal
    effective_date: date


OPERATION_TYPES: dict[str, type[SubscriptionOperation]] = {
    "update_quantity": UpdateQuantity,
    "update_price_margin": UpdatePriceMargin,
    "cancel": Cancel,
    "suspend": Suspend,
    "reactivate": Reactivate,
    "update_billing_cycle": UpdateBillingCycle,
    "update_friendly_name": UpdateFriendlyName,
    "update_auto_renew": UpdateAutoRenew,
    "renew": Renew,
    "expire": Expire,
    "upgrade": Upgrade,
    "change_reseller": ChangeReseller,
}

_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # type: (required fields, optional fields) besides type / effective_date / preview
    "update_quantity": ({"quantity"}, set()),
    "update_price_margin": ({"margin_percent"}, set()),
    "cancel": (set(), set()),
    "suspend": (set(), set()),
    "reactivate": (set(), set()),
    "update_billing_cycle": ({"billing_cycle"}, set()),
    "update_friendly_name": ({"friendly_name"}, set()),
    "update_auto_renew": ({"auto_renew"}, set()),
    "renew": ({"end_date"}, {"quantity", "list_price", "offer_id", "term", "billing_cycle"}),
    "expire": (set(), set()),
    "upgrade": ({"target_subscription_id", "quantity"}, set()),
    "change_reseller": ({"reseller_id", "customer_id"}, set()),
}
_COMMON = {"type", "effective_date", "preview"}


def parse_date(value: object, field: str) -> date:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD; got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD; got {value!r}") from None


def parse_int(value: object, field: str, minimum: int | None = 0, maximum: int = 10_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer; got {value!r}")
    if (minimum is not None and value < minimum) or value > maximum:
        raise InvalidInput(f"{field} must be between {minimum} and {maximum}; got {value}")
    return value


def parse_decimal(
    value: object, field: str, minimum: Decimal | None = None, maximum: Decimal | None = None
) -> Decimal:
    try:
        if isinstance(value, str):
            check_number_text(value, field)
        number = to_decimal(value, field)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InvalidInput(f"{field} must be between {minimum} and {maximum}; got {value!r}")
    return number


def parse_text(value: object, field: str, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(f"{field} must be a non-empty string of at most {max_length} characters")
    try:
        return check_plain_text(value, field)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _parse_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false; got {value!r}")
    return value


MARGIN_BOUNDS = (Decimal("-100"), Decimal("1000"))
PRICE_BOUNDS = (Decimal("0"), Decimal("1000000"))


def parse_operation(subscription_id: str, body: Mapping[str, object], today: date) -> SubscriptionOperation:
    """A subscription operation from its API / scenario form (see API.md, operations body)."""
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise InvalidInput(f"type must be one of {', '.join(_FIELDS)}; got {kind!r}")
    required, optional = _FIELDS[kind]
    unknown = set(body) - required - optional - _COMMON
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]} is not a field of a {kind} operation")
    missing = required - set(body)
    if missing:
        raise InvalidInput(f"{sorted(missing)[0]} is required for a {kind} operation")
    raw_date = body.get("effective_date")
    effective = today if raw_date is None else parse_date(raw_date, "effective_date")
    args: dict[str, object] = {"subscription_id": subscription_id, "effective_date": effective}
    try:
        check_date(effective, "effective_date", today)
        args.update(_parse_fields(kind, body))
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    operation_class: Any = OPERATION_TYPES[kind]
    result: SubscriptionOperation = operation_class(**args)
    return result


def _parse_fields(kind: str, body: Mapping[str, object]) -> dict[str, object]:
    if kind in ("update_quantity", "upgrade"):
        fields: dict[str, object] = {"quantity": parse_int(body["quantity"], "quantity", minimum=None)}
        if kind == "upgrade":
            fields["target_subscription_id"] = parse_text(
                body["target_subscription_id"], "target_subscription_id"
            )
        return fields
    if kind == "update_price_margin":
        raw = body["margin_percent"]
        return {
            "margin_percent": None if raw is None else parse_decimal(raw, "margin_percent", *MARGIN_BOUNDS)
        }
    if kind == "update_billing_cycle":
        return {"billing_cycle": parse_enum(BillingCycle, body["billing_cycle"], "billing_cycle")}
    if kind == "update_friendly_name":
        raw = body["friendly_name"]
        return {"friendly_name": None if raw is None else parse_text(raw, "friendly_name")}
    if kind == "update_auto_renew":
        return {"auto_renew": _parse_bool(body["auto_renew"], "auto_renew")}
    if kind == "change_reseller":
        return {
            "reseller_id": parse_text(body["reseller_id"], "reseller_id"),
            "customer_id": parse_text(body["customer_id"], "customer_id"),
        }
    if kind == "renew":
        return _parse_renewal(body)
    return {}


def _parse_renewal(body: Mapping[str, object]) -> dict[str, object]:
    end = check_end_date(parse_date(body["end_date"], "end_date"), "end_date")
    fields: dict[str, object] = {"end_date": end}
    if body.get("quantity") is not None:
        fields["quantity"] = parse_int(body["quantity"], "quantity", minimum=None)
    if body.get("list_price") is not None:
        fields["list_price"] = parse_decimal(body["list_price"], "list_price", *PRICE_BOUNDS)
    if body.get("offer_id") is not None:
        fields["offer_id"] = parse_text(body["offer_id"], "offer_id")
    if body.get("term") is not None:
        fields["term"] = parse_enum(Term, body["term"], "term")
    if body.get("billing_cycle") is not None:
        fields["billing_cycle"] = parse_enum(BillingCycle, body["billing_cycle"], "billing_cycle")
    return fields
