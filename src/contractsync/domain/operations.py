"""Operations as plain dataclasses, and `OperationCommand`: one operation as a caller asks it.

Every entry point (the API's body, a console form, a CLI file, a scenario, an import) builds an
`OperationCommand` the same way, so each field is checked once, with the bounds of
`contractsync.domain.bounds` and one message per bound. Building checks shape, types and bounds
and names the offending field (`InvalidInput`); whether an operation makes sense for the
subscription's state is the rules' job (`OperationRefused`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache
from typing import Any

from contractsync.domain.bounds import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    MARGIN_PERCENT_PLACES,
    MARGIN_PERCENT_RANGE,
    MAX_QUANTITY,
    PRICE_PLACES,
    PRICE_RANGE,
    TEXT_MAX_LENGTH,
    check_date,
    check_end_date,
    check_number_text,
    check_plain_text,
)
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


def parse_date(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
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


def parse_text(value: object, field: str, max_length: int = TEXT_MAX_LENGTH) -> str:
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


def _places(number: Decimal, field: str, places: int) -> Decimal:
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(f"{field} may have at most {places} decimal places; got {number}")
    return number


def _quantity(value: object, field: str) -> int:
    # No lower bound here: a negative quantity is well-formed, and R1 refuses it with its reason.
    return parse_int(value, field, minimum=None, maximum=MAX_QUANTITY)


def _margin(value: object, field: str) -> Decimal:
    return _places(parse_decimal(value, field, *MARGIN_PERCENT_RANGE), field, MARGIN_PERCENT_PLACES)


def _price(value: object, field: str) -> Decimal:
    return _places(parse_decimal(value, field, *PRICE_RANGE), field, PRICE_PLACES)


def _end_date(value: object, field: str) -> date:
    try:
        return check_end_date(parse_date(value, field), field)
    except InvalidInput:
        raise
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _enum(kind: type[StrEnum]) -> Callable[[object, str], object]:
    def parse(value: object, field: str) -> object:
        try:
            return parse_enum(kind, value, field)
        except ValueError as error:
            raise InvalidInput(str(error)) from None

    return parse


#: How each field of an operation is read and bounded (the one place; the API's bodies hold the
#: same bounds through `contractsync.domain.bounds`). A null is taken where the operation's field
#: may be None: it removes the custom margin, the friendly name, or leaves a renewal's value as is.
FIELD_PARSERS: dict[str, Callable[[object, str], object]] = {
    "quantity": _quantity,
    "margin_percent": _margin,
    "billing_cycle": _enum(BillingCycle),
    "term": _enum(Term),
    "friendly_name": parse_text,
    "auto_renew": _parse_bool,
    "end_date": _end_date,
    "list_price": _price,
    "offer_id": parse_text,
    "target_subscription_id": parse_text,
    "reseller_id": parse_text,
    "customer_id": parse_text,
}
_NOT_FIELDS = {"subscription_id", "effective_date"}
IDEMPOTENCY_KEY = "idempotency_key"


def operation_fields(kind: str) -> tuple[set[str], set[str], set[str]]:
    """An operation type's own fields: (required, optional, nullable), from its dataclass."""
    required, optional, nullable = _operation_fields(kind)
    return set(required), set(optional), set(nullable)


@cache  # one entry per operation type: read on every operation the API takes
def _operation_fields(kind: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    required: set[str] = set()
    optional: set[str] = set()
    nullable: set[str] = set()
    for f in fields(OPERATION_TYPES[kind]):
        if f.name in _NOT_FIELDS:
            continue
        (required if f.default is MISSING else optional).add(f.name)
        if "None" in str(f.type):
            nullable.add(f.name)
    return frozenset(required), frozenset(optional), frozenset(nullable)


def check_idempotency_key(key: object) -> str | None:
    """The key, or InvalidInput naming what is wrong with it."""
    if key is None:
        return None
    if not isinstance(key, str) or not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"{IDEMPOTENCY_KEY} must be text of 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters"
        )
    return key


@dataclass(frozen=True)
class OperationCommand:
    """One subscription operation as a caller asks it: what the façade takes from the API, the
    console, the CLI and the imports alike.

    `fields` holds the operation's own fields that were given (a null among them), already read
    and bounded (`FIELD_PARSERS`). `effective_date` None means today in the connection's time zone,
    which is known only when the operation applies (`operation`). A `preview` stores and sends
    nothing; an `idempotency_key` makes a second sending answer the first one's records.
    Build it with `OperationCommand.build` (typed or JSON-like values) or `from_json`."""

    type: str
    fields: tuple[tuple[str, object], ...] = ()
    effective_date: date | None = None
    preview: bool = False
    idempotency_key: str | None = None

    @classmethod
    def build(
        cls,
        type: object,
        *,
        effective_date: object = None,
        preview: object = False,
        idempotency_key: object = None,
        **given: object,
    ) -> OperationCommand:
        """Read and bound every field; InvalidInput names the first that is wrong."""
        if not isinstance(type, str) or type not in OPERATION_TYPES:
            raise InvalidInput(f"type must be one of {', '.join(OPERATION_TYPES)}; got {type!r}")
        required, optional, nullable = _operation_fields(type)
        unknown = set(given) - required - optional
        if unknown:
            raise InvalidInput(f"{sorted(unknown)[0]} is not a field of a {type} operation")
        missing = required - set(given)
        if missing:
            raise InvalidInput(f"{sorted(missing)[0]} is required for a {type} operation")
        if not isinstance(preview, bool):
            raise InvalidInput("preview must be true or false")
        day = None if effective_date is None else parse_date(effective_date, "effective_date")
        values: list[tuple[str, object]] = []
        for name in sorted(given, key=_field_order(type)):
            value = given[name]
            if value is None and name in nullable:
                values.append((name, None))
            else:
                values.append((name, FIELD_PARSERS[name](value, name)))
        return cls(type, tuple(values), day, preview, check_idempotency_key(idempotency_key))

    @classmethod
    def from_json(cls, body: Mapping[str, object]) -> OperationCommand:
        """From the API.md operations body (a CLI file's line, a scenario's event, an import)."""
        options = {k: body[k] for k in ("effective_date", "preview", IDEMPOTENCY_KEY) if k in body}
        given = {k: v for k, v in body.items() if k not in options and k != "type"}
        return cls.build(
            body.get("type"),
            effective_date=options.get("effective_date"),
            preview=options.get("preview", False),
            idempotency_key=options.get(IDEMPOTENCY_KEY),
            **given,
        )

    def value(self, name: str) -> object:
        return dict(self.fields).get(name)

    def operation(self, subscription_id: str, today: date) -> SubscriptionOperation:
        """The operation on `subscription_id`, dated `effective_date` or else `today` (the
        connection's), which bounds it: 2000-01-01 .. today + 5 years."""
        effective = self.effective_date or today
        try:
            check_date(effective, "effective_date", today)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        operation_class: Any = OPERATION_TYPES[self.type]
        result: SubscriptionOperation = operation_class(
            subscription_id=subscription_id, effective_date=effective, **dict(self.fields)
        )
        return result

    def touches(self, subscription_id: str) -> set[str]:
        """The subscriptions the operation changes: its own, and an upgrade's target."""
        target = self.value("target_subscription_id")
        if self.type == "upgrade" and isinstance(target, str):
            return {subscription_id, target}
        return {subscription_id}

    def as_json(self) -> dict[str, object]:
        """The API.md operations body that asks for this command (what `from_json` reads)."""
        body: dict[str, object] = {"type": self.type}
        body.update((name, _json_value(value)) for name, value in self.fields)
        if self.effective_date is not None:
            body["effective_date"] = self.effective_date.isoformat()
        if self.preview:
            body["preview"] = True
        if self.idempotency_key is not None:
            body[IDEMPOTENCY_KEY] = self.idempotency_key
        return body


@cache  # one entry per operation type
def _field_order(kind: str) -> Callable[[str], int]:
    order = [f.name for f in fields(OPERATION_TYPES[kind])]
    return lambda name: order.index(name) if name in order else len(order)


def _json_value(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def parse_operation(subscription_id: str, body: Mapping[str, object], today: date) -> SubscriptionOperation:
    """A subscription operation from its API / scenario form (see API.md, operations body)."""
    return OperationCommand.from_json(body).operation(subscription_id, today)
