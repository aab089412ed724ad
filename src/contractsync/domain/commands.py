"""The façade's commands besides operations (`operations.OperationCommand`) and batches
(`batch_command.BatchCommand`): what a caller asks, read and bounded once.

Each command is built the same way from the API's validated body, a console form or an import's
JSON (`build` takes typed or JSON-like values), with the bounds of `contractsync.domain.bounds`;
`InvalidInput` names the first field that is wrong. What depends on today (a date's range) is
checked by the use case, which has the clock (`check_date`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from contractsync.domain.bounds import (
    DISCOUNT_PERCENT_RANGE,
    ID_MAX_LENGTH,
    MARGIN_PERCENT_RANGE,
    MAX_QUANTITY,
    PRICE_RANGE,
    STORED_NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    check_end_date,
)
from contractsync.domain.command_values import ABSENT, bounded_decimal, enum_value, flag, optional_text
from contractsync.domain.enums import BillingCycle, OfferKind, Term
from contractsync.domain.model import Promotion
from contractsync.domain.operations import InvalidInput, parse_date, parse_int, parse_text


@dataclass(frozen=True)
class SetProviderMargin:
    """R5: a customer's margin for a provider, from `effective_date` (None: today in each
    connection's time zone); a `preview` stores and sends nothing."""

    margin_percent: Decimal
    effective_date: date | None = None
    preview: bool = False

    @classmethod
    def build(
        cls, margin_percent: object, *, effective_date: object = None, preview: object = False
    ) -> SetProviderMargin:
        return cls(
            bounded_decimal(margin_percent, "margin_percent", MARGIN_PERCENT_RANGE),
            None if effective_date is None else parse_date(effective_date, "effective_date"),
            flag(preview, "preview"),
        )


@dataclass(frozen=True)
class CreateSubscription:
    """A new subscription of a customer (its reseller is the customer's; it starts active)."""

    id: str
    customer_id: str
    offer_id: str
    offer_name: str
    kind: OfferKind
    quantity: int
    term: Term
    billing_cycle: BillingCycle
    start_date: date
    end_date: date
    auto_renew: bool
    list_price: Decimal
    friendly_name: str | None = None
    promotion: Promotion | None = None
    price_margin_percent: Decimal | None = None

    @classmethod
    def build(
        cls,
        *,
        id: object,
        customer_id: object,
        offer_id: object,
        offer_name: object,
        kind: object,
        quantity: object,
        term: object,
        billing_cycle: object,
        start_date: object,
        end_date: object,
        auto_renew: object,
        list_price: object,
        friendly_name: object = None,
        promotion: object = None,
        price_margin_percent: object = None,
    ) -> CreateSubscription:
        start = parse_date(start_date, "start_date")
        try:
            end = check_end_date(parse_date(end_date, "end_date"), "end_date")
        except InvalidInput:
            raise
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        if end < start:
            raise InvalidInput("end_date must not be before start_date")
        return cls(
            id=parse_text(id, "id", ID_MAX_LENGTH),
            customer_id=parse_text(customer_id, "customer_id", ID_MAX_LENGTH),
            offer_id=parse_text(offer_id, "offer_id", TEXT_MAX_LENGTH),
            offer_name=parse_text(offer_name, "offer_name", STORED_NAME_MAX_LENGTH),
            kind=enum_value(OfferKind, kind, "kind"),
            quantity=parse_int(quantity, "quantity", 0, MAX_QUANTITY),
            term=enum_value(Term, term, "term"),
            billing_cycle=enum_value(BillingCycle, billing_cycle, "billing_cycle"),
            start_date=start,
            end_date=end,
            auto_renew=flag(auto_renew, "auto_renew"),
            friendly_name=optional_text(friendly_name, "friendly_name"),
            list_price=bounded_decimal(list_price, "list_price", PRICE_RANGE),
            promotion=_promotion(promotion),
            price_margin_percent=None
            if price_margin_percent is None
            else bounded_decimal(price_margin_percent, "price_margin_percent", MARGIN_PERCENT_RANGE),
        )


def _promotion(value: object) -> Promotion | None:
    if value is None:
        return None
    if isinstance(value, Promotion):
        value = {"id": value.id, "discount_percent": value.discount_percent}
    if not isinstance(value, Mapping) or set(value) != {"id", "discount_percent"}:
        raise InvalidInput("promotion must be an object with id and discount_percent")
    return Promotion(
        parse_text(value["id"], "promotion.id", TEXT_MAX_LENGTH),
        bounded_decimal(value["discount_percent"], "promotion.discount_percent", DISCOUNT_PERCENT_RANGE),
    )


@dataclass(frozen=True)
class Sweep:
    """The daily sweep for `date` (its range, today + 5 years, is checked by the use case);
    `connection_id`: the scheduler's sweep of one connection (None: every one the caller sees)."""

    date: date
    preview: bool = False
    connection_id: str | None = None

    @classmethod
    def build(cls, *, date: object, preview: object = False, connection_id: object = None) -> Sweep:
        checked_preview = flag(preview, "preview")
        return cls(
            parse_date(date, "date"),
            checked_preview,
            optional_text(connection_id, "connection_id", ID_MAX_LENGTH),
        )


#: A token's life, in days, when the API makes it.
MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True)
class IssueToken:
    """A named token made through the API: `reseller_id` None is an admin token; `expires_in_days`
    None never expires. The name's own rules (trimmed, 1 to 60 printable characters, unique) are
    the tokens' (`service/tokens.py: check_token_name`), applied where every token is made."""

    name: str
    reseller_id: str | None = None
    expires_in_days: int | None = None

    @classmethod
    def build(cls, *, name: object, reseller_id: object = None, expires_in_days: object = None) -> IssueToken:
        days = (
            None
            if expires_in_days is None
            else parse_int(expires_in_days, "expires_in_days", 1, MAX_TOKEN_DAYS)
        )
        reseller = optional_text(reseller_id, "reseller_id", ID_MAX_LENGTH)
        if not isinstance(name, str):
            raise InvalidInput("name: must be text")
        return cls(name, reseller, days)


#: The longest reconciliation interval, in hours (a year); 0 turns the schedule off.
MAX_SCHEDULE_HOURS = 8760


@dataclass(frozen=True)
class SetReconciliationSchedule:
    """How often the worker reconciles a connection (`every_hours`, 0 = off) and the currency its
    money impact is told in; None keeps what the connection has."""

    connection_id: str
    every_hours: int | None = None
    currency: str | None = None

    @classmethod
    def build(
        cls, *, connection_id: object, every_hours: object = ABSENT, currency: object = ABSENT
    ) -> SetReconciliationSchedule:
        return cls(
            parse_text(connection_id, "connection_id", ID_MAX_LENGTH),
            None if every_hours is ABSENT else _schedule_hours(every_hours),
            None if currency is ABSENT else _currency(currency),
        )


def _schedule_hours(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SCHEDULE_HOURS:
        raise InvalidInput("every_hours must be a whole number of hours from 0 (off) to 8760")
    return value


def _currency(value: object) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha() or not value.isupper():
        raise InvalidInput("currency must be an ISO 4217 code of three capital letters, e.g. EUR")
    return value
