"""Scenario files (API.md, "Scenario files"): parsing with errors that name the field."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contractsync.domain.engine import SyncState
from contractsync.domain.enums import (
    BillingCycle,
    ContractPeriodType,
    OfferKind,
    Policy,
    PromotionSetting,
    SubscriptionStatus,
    Term,
    parse_enum,
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
)
from contractsync.domain.operations import InvalidInput, parse_date, parse_decimal, parse_int, parse_text

T = TypeVar("T")


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the field."""


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # subscription | provider_margin | approve_billing | post_periods | sweep | map
    body: Mapping[str, Any]
    index: int


@dataclass
class Scenario:
    state: SyncState
    events: list[Event]
    zone: ZoneInfo

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{path} is not valid JSON: {error.msg} at line {error.lineno}") from None
    return parse_scenario(data)


TOP_LEVEL_KEYS = ("connection", "resellers", "customers", "subscriptions", "contracts", "mappings", "events")
REQUIRED_TOP_LEVEL_KEYS = ("connection", "subscriptions", "events")


def parse_scenario(data: object) -> Scenario:
    root = _object(data, "scenario")
    _check_top_level_keys(root)
    connection = _connection(_object(root.get("connection", {}), "connection"))
    state = SyncState(connection=connection)
    for reseller in _each(root, "resellers", lambda item: _reseller(item)):
        state.resellers[reseller.id] = reseller
    for customer in _each(root, "customers", lambda item: _customer(item, state)):
        state.customers[customer.id] = customer
    for sub in _each(root, "subscriptions", lambda item: _subscription(item, state)):
        state.subscriptions[sub.id] = sub
    for contract in _each(root, "contracts", lambda item: _contract(item)):
        state.contracts[contract.id] = contract
    events: list[Event] = []
    for i, item in enumerate(_list(root, "mappings")):
        mapping = _object(item, f"mappings[{i}]")
        at = _field(f"mappings[{i}]", partial(_instant, mapping, "at"))
        events.append(Event(at, "map", mapping, -1 - i))
    for i, item in enumerate(_list(root, "events")):
        events.append(_field(f"events[{i}]", partial(_event, _object(item, f"events[{i}]"), i)))
    # Mappings (negative index) come before events at the same instant, each in file order.
    events.sort(key=lambda e: (e.at, e.index if e.index >= 0 else -1_000_000 - e.index))
    return Scenario(state, events, ZoneInfo(connection.timezone))


def _check_top_level_keys(root: Mapping[str, Any]) -> None:
    """A misspelled or missing key would otherwise plan nothing and look like success."""
    unknown = sorted(set(root) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown key (a scenario has {', '.join(TOP_LEVEL_KEYS)})")
    missing = [key for key in REQUIRED_TOP_LEVEL_KEYS if key not in root]
    if missing:
        raise ScenarioError(f"{missing[0]} is required")


def _each(root: Mapping[str, Any], key: str, build: Callable[[dict[str, Any]], T]) -> list[T]:
    """Build every item of a list, naming `key[i].field` in any error."""
    return [
        _field(f"{key}[{i}]", partial(build, _object(item, f"{key}[{i}]")))
        for i, item in enumerate(_list(root, key))
    ]


def _field(path: str, build: Callable[[], T]) -> T:
    try:
        return build()
    except (InvalidInput, ValueError, KeyError) as error:
        if isinstance(error, ScenarioError):
            raise
        # A KeyError's text is the quoted key; other errors keep their own quotes.
        message = str(error.args[0]) if isinstance(error, KeyError) else str(error)
        raise ScenarioError(f"{path}.{message}") from None


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{path} must be an object")
    return value


def _list(root: Mapping[str, Any], key: str) -> list[Any]:
    value = root.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key} must be a list")
    return value


def _required(item: Mapping[str, Any], key: str) -> Any:
    if key not in item:
        raise InvalidInput(f"{key} is required")
    return item[key]


def _connection(item: Mapping[str, Any]) -> ConnectionSettings:
    zone = item.get("timezone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"connection.timezone is not a known time zone: {zone!r}") from None
    policies = _object(item.get("policies", {}), "connection.policies")
    unknown = set(policies) - {"upgrade", "legacy_suspend", "reseller_change"}
    if unknown:
        raise ScenarioError(f"connection.policies.{sorted(unknown)[0]} is not a policy")
    try:
        settle = parse_int(item.get("settle_seconds", 600), "settle_seconds", 0, 86_400)
        parsed = {k: parse_enum(Policy, v, k) for k, v in policies.items()}
    except ValueError as error:
        raise ScenarioError(f"connection.{error}") from None
    return ConnectionSettings(str(item.get("id", "connection")), str(zone), settle, Policies(**parsed))


def _reseller(item: Mapping[str, Any]) -> Reseller:
    approved = item.get("approved_through")
    return Reseller(
        id=parse_text(_required(item, "id"), "id"),
        name=str(item.get("name", "")),
        promotion_setting=parse_enum(
            PromotionSetting, item.get("promotion_setting", "pass_through"), "promotion_setting"
        ),
        approved_through=None if approved is None else parse_date(approved, "approved_through"),
    )


def _customer(item: Mapping[str, Any], state: SyncState) -> Customer:
    reseller_id = parse_text(_required(item, "reseller_id"), "reseller_id")
    if reseller_id not in state.resellers:
        raise InvalidInput(f"reseller_id names no reseller: {reseller_id!r}")
    margins = item.get("provider_margins") or {}
    if not isinstance(margins, dict):
        raise InvalidInput("provider_margins must be an object")
    return Customer(
        id=parse_text(_required(item, "id"), "id"),
        reseller_id=reseller_id,
        name=str(item.get("name", "")),
        tenant_id=item.get("tenant_id"),
        provider_margins={k: parse_decimal(v, f"provider_margins.{k}") for k, v in margins.items()},
    )


def _subscription(item: Mapping[str, Any], state: SyncState) -> Subscription:
    customer_id = parse_text(_required(item, "customer_id"), "customer_id")
    customer = state.customers.get(customer_id)
    if customer is None:
        raise InvalidInput(f"customer_id names no customer: {customer_id!r}")
    promotion = item.get("promotion")
    margin = item.get("price_margin_percent")
    return Subscription(
        id=parse_text(_required(item, "id"), "id"),
        customer_id=customer_id,
        reseller_id=customer.reseller_id,
        offer_id=parse_text(_required(item, "offer_id"), "offer_id"),
        offer_name=str(item.get("offer_name", "")),
        kind=parse_enum(OfferKind, _required(item, "kind"), "kind"),
        quantity=parse_int(_required(item, "quantity"), "quantity"),
        status=parse_enum(SubscriptionStatus, item.get("status", "active"), "status"),
        term=parse_enum(Term, _required(item, "term"), "term"),
        billing_cycle=parse_enum(BillingCycle, _required(item, "billing_cycle"), "billing_cycle"),
        start_date=parse_date(_required(item, "start_date"), "start_date"),
        end_date=parse_date(_required(item, "end_date"), "end_date"),
        auto_renew=_bool(item.get("auto_renew", True), "auto_renew"),
        list_price=parse_decimal(_required(item, "list_price"), "list_price", Decimal(0)),
        friendly_name=item.get("friendly_name"),
        promotion=None if promotion is None else _promotion(promotion),
        price_margin_percent=None if margin is None else parse_decimal(margin, "price_margin_percent"),
        scheduled_next_term=_next_term(item.get("scheduled_next_term")),
    )


def _promotion(value: object) -> Promotion:
    item = _object(value, "promotion")
    return Promotion(
        id=str(item.get("id", "")),
        discount_percent=parse_decimal(
            _required(item, "discount_percent"), "promotion.discount_percent", Decimal(0), Decimal(100)
        ),
    )


def _next_term(value: object) -> NextTerm | None:
    if value is None:
        return None
    item = _object(value, "scheduled_next_term")
    return NextTerm(
        quantity=None
        if item.get("quantity") is None
        else parse_int(item["quantity"], "scheduled_next_term.quantity"),
        offer_id=item.get("offer_id"),
        term=None if item.get("term") is None else parse_enum(Term, item["term"], "scheduled_next_term.term"),
        billing_cycle=None
        if item.get("billing_cycle") is None
        else parse_enum(BillingCycle, item["billing_cycle"], "scheduled_next_term.billing_cycle"),
        list_price=None
        if item.get("list_price") is None
        else parse_decimal(item["list_price"], "scheduled_next_term.list_price", Decimal(0)),
    )


def _contract(item: Mapping[str, Any]) -> Contract:
    posted = item.get("posted_through")
    return Contract(
        id=parse_int(_required(item, "id"), "id", 1),
        start_date=parse_date(_required(item, "start_date"), "start_date"),
        end_date=parse_date(_required(item, "end_date"), "end_date"),
        period_type=parse_enum(ContractPeriodType, item.get("period_type", "monthly"), "period_type"),
        posted_through=None if posted is None else parse_date(posted, "posted_through"),
    )


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false")
    return value


def _instant(item: Mapping[str, Any], key: str) -> datetime:
    raw = _required(item, key)
    if not isinstance(raw, str):
        raise InvalidInput(f"{key} must be an RFC 3339 timestamp")
    try:
        instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{key} must be an RFC 3339 timestamp; got {raw!r}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


_EVENT_KINDS = {
    "update_provider_margin": "provider_margin",
    "approve_billing": "approve_billing",
    "post_periods": "post_periods",
    "sweep": "sweep",
    # not a user operation: makes the simulated Autotask refuse the next deliveries (shows F1)
    "autotask_rejects": "autotask_rejects",
}


def _event(body: Mapping[str, Any], index: int) -> Event:
    at = _instant(body, "at")
    kind_name = _required(body, "type")
    if not isinstance(kind_name, str):
        raise InvalidInput("type must be a string")
    if "subscription_id" in body:
        return Event(at, "subscription", body, index)
    if kind_name not in _EVENT_KINDS:
        raise InvalidInput(
            f"type {kind_name!r} needs a subscription_id, or must be one of {', '.join(_EVENT_KINDS)}"
        )
    return Event(at, _EVENT_KINDS[kind_name], body, index)
