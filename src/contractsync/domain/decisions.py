"""What a rule decides: new local state, connection operation records to create, alerts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.domain.model import (
    ConnectionSettings,
    Contract,
    Customer,
    Reseller,
    Subscription,
    SubscriptionMapping,
)
from contractsync.domain.pricing import UnitPricing, unit_pricing
from contractsync.domain.schedule import Intent


@dataclass(frozen=True)
class ManualAction:
    """An adjustment a person must make in Autotask (policy `manual`, or an unmapped target)."""

    subscription_id: str
    contract_service_id: int | None
    effective_date: date
    unit_change: int | None
    instruction: str


@dataclass(frozen=True)
class Alert:
    kind: str  # contract_ends_before_term | adjustment_outside_contract | needs_mapping | ...
    message: str
    subscription_id: str | None = None


@dataclass(frozen=True)
class Effect:
    """One connection operation record on one mapped subscription."""

    record_type: RecordType
    subscription_id: str
    contract_service_id: int
    effective_date: date
    #: PENDING when it carries intents (the outcome comes from delivery), else FAILED or SKIPPED
    status: RecordStatus = RecordStatus.PENDING
    reason: str | None = None
    intents: tuple[Intent, ...] = ()
    manual_actions: tuple[ManualAction, ...] = ()
    release_mapping: bool = False


@dataclass(frozen=True)
class Decision:
    subscriptions: tuple[Subscription, ...] = ()
    customers: tuple[Customer, ...] = ()
    effects: tuple[Effect, ...] = ()
    alerts: tuple[Alert, ...] = ()
    #: manual actions that belong to no mapped subscription's record (e.g. "map the new subscription")
    manual_actions: tuple[ManualAction, ...] = ()


@dataclass(frozen=True)
class RuleContext:
    """What the rules may read. The service layer loads only what an operation needs."""

    connection: ConnectionSettings
    subscriptions: Mapping[str, Subscription]
    customers: Mapping[str, Customer]
    resellers: Mapping[str, Reseller]
    mappings: Mapping[str, SubscriptionMapping] = field(default_factory=dict)
    contracts: Mapping[int, Contract] = field(default_factory=dict)

    def pricing(self, subscription: Subscription) -> UnitPricing:
        customer = self.customers[subscription.customer_id]
        reseller = self.resellers[subscription.reseller_id]
        return unit_pricing(subscription, customer, reseller.promotion_setting)

    def mapping(self, subscription_id: str) -> SubscriptionMapping | None:
        return self.mappings.get(subscription_id)


def units_intent(day: date, units: int) -> Intent:
    return Intent(day, units=units)


def price_intent(day: date, pricing: UnitPricing) -> Intent:
    return Intent(day, unit_price=pricing.unit_price, unit_cost=pricing.unit_cost)


def full_intent(day: date, units: int, pricing: UnitPricing) -> Intent:
    return Intent(day, units=units, unit_price=pricing.unit_price, unit_cost=pricing.unit_cost)
