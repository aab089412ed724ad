"""The closed vocabularies of the domain. Unknown values are refused, never guessed."""

from __future__ import annotations

import enum
from typing import TypeVar

E = TypeVar("E", bound=enum.StrEnum)


class OfferKind(enum.StrEnum):
    NCE = "nce"
    LEGACY = "legacy"
    AZURE_PLAN = "azure_plan"
    SOFTWARE = "software"


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELED = "canceled"
    EXPIRED = "expired"


class Term(enum.StrEnum):
    P1M = "P1M"
    P1Y = "P1Y"
    P3Y = "P3Y"

    @property
    def months(self) -> int:
        return {"P1M": 1, "P1Y": 12, "P3Y": 36}[self.value]


class BillingCycle(enum.StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"
    TRIENNIAL = "triennial"

    @property
    def months(self) -> int:
        return {"monthly": 1, "annual": 12, "triennial": 36}[self.value]


class PromotionSetting(enum.StrEnum):
    PASS_THROUGH = "pass_through"  # the customer gets the promotional discount
    KEEP = "keep"  # the reseller keeps it: price from the undiscounted list price


class Policy(enum.StrEnum):
    MANUAL = "manual"
    AUTO = "auto"


class ContractPeriodType(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi_annual"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "semi_annual": 6, "yearly": 12}[self.value]


class RecordStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"


class RecordType(enum.StrEnum):
    """Connection operation type names, as the seed's audit log spells them."""

    UPDATE_QUANTITY = "UpdateSubscriptionQuantityOnConnection"
    UPDATE_PRICE_MARGIN = "UpdateSubscriptionPriceMarginOnConnection"
    CANCEL = "CancelSubscriptionOnConnection"
    SUSPEND_AZURE_PLAN = "SuspendAzurePlanOnConnection"
    UPDATE_CUSTOMER_MARGINS = "UpdateCustomerMarginsOnConnection"
    EXPIRE = "ExpireSubscriptionOnConnection"
    RENEW = "RenewSubscriptionOnConnection"
    CANCEL_RENEWED = "CancelRenewedSubscriptionOnConnection"
    UPDATE_UNSUPPORTED = "UpdateSubscriptionOnConnection"
    UPGRADE = "UpgradeSubscriptionOnConnection"
    SUSPEND = "SuspendSubscriptionOnConnection"
    CHANGE_RESELLER = "ChangeSubscriptionResellerOnConnection"
    MAP_SUBSCRIPTION = "CreateConnectionSubscriptionMapping"
    MAP_CUSTOMER = "CreateConnectionCustomerMapping"
    # contractsync's own (X1): an adjustment that repairs a difference found by reconciliation
    RECONCILE = "ReconcileContractServiceOnConnection"


def parse_enum(kind: type[E], value: object, field: str) -> E:
    """Turn user input into an enum member, or raise ValueError naming the field and the choices."""
    try:
        return kind(value)  # type: ignore[arg-type]  # a non-str value raises ValueError too
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ValueError(f"{field} must be one of {choices}; got {value!r}") from None
