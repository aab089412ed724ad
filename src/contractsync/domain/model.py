"""The entities of SPEC §1 as plain, immutable dataclasses (changes make new values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from contractsync.domain.enums import (
    BillingCycle,
    ContractPeriodType,
    OfferKind,
    Policy,
    PromotionSetting,
    SubscriptionStatus,
    Term,
)


@dataclass(frozen=True)
class Reseller:
    id: str
    name: str = ""
    promotion_setting: PromotionSetting = PromotionSetting.PASS_THROUGH
    #: billing approved through this date (inclusive); a billing period starting on or before it is approved
    approved_through: date | None = None


@dataclass(frozen=True)
class Customer:
    id: str
    reseller_id: str
    name: str
    tenant_id: str | None = None
    #: percent per provider, e.g. {"microsoft": Decimal("20")}
    provider_margins: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Promotion:
    id: str
    discount_percent: Decimal


@dataclass(frozen=True)
class NextTerm:
    """Changes Microsoft applies when the subscription renews (scheduled next-term instructions)."""

    quantity: int | None = None
    offer_id: str | None = None
    term: Term | None = None
    billing_cycle: BillingCycle | None = None
    list_price: Decimal | None = None


@dataclass(frozen=True)
class Subscription:
    id: str
    customer_id: str
    reseller_id: str
    offer_id: str
    offer_name: str
    kind: OfferKind
    quantity: int
    status: SubscriptionStatus
    term: Term
    billing_cycle: BillingCycle
    start_date: date
    end_date: date
    auto_renew: bool
    list_price: Decimal
    friendly_name: str | None = None
    promotion: Promotion | None = None
    price_margin_percent: Decimal | None = None
    scheduled_next_term: NextTerm | None = None
    provider: str = "microsoft"

    @property
    def sku(self) -> str:
        """Offers match on productId:skuId (the availability part changes between terms)."""
        return ":".join(self.offer_id.split(":")[:2])

    @property
    def is_live(self) -> bool:
        return self.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)


@dataclass(frozen=True)
class Contract:
    id: int
    start_date: date
    end_date: date
    period_type: ContractPeriodType = ContractPeriodType.MONTHLY
    #: Autotask has approved and posted every contract period ending on or before this date
    posted_through: date | None = None


@dataclass(frozen=True)
class Policies:
    upgrade: Policy = Policy.MANUAL
    legacy_suspend: Policy = Policy.MANUAL
    reseller_change: Policy = Policy.MANUAL


@dataclass(frozen=True)
class ConnectionSettings:
    id: str
    timezone: str = "UTC"
    settle_seconds: int = 600
    policies: Policies = field(default_factory=Policies)


@dataclass(frozen=True)
class SubscriptionMapping:
    subscription_id: str
    contract_id: int
    contract_service_id: int
    mapped_at: datetime
    #: the contract service's own start: adjustments never land before it
    service_start: date
    service_id: int | None = None
