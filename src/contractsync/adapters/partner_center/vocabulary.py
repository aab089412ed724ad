"""Partner Center's enums mapped onto contractsync's, each mapping chosen and explained here.

A value not listed is an error naming the field: contractsync never guesses what a new or
misspelt Partner Center value means for somebody's bill.
"""

from __future__ import annotations

import re

from contractsync.adapters.partner_center.values import Fields, token
from contractsync.domain.enums import BillingCycle, OfferKind, SubscriptionStatus, Term
from contractsync.ports.partner_center_documents import TransitionKind, TransitionState, is_guid

#: The Azure plan product (offer `DZH318Z0BPS6:0001:DZH318Z0BML6`).
AZURE_PLAN_PRODUCT = "DZH318Z0BPS6"
#: Catalog prefix of Microsoft's software products (perpetual software and software subscriptions).
SOFTWARE_PREFIX = "DG7G"

_NCE_OFFER = re.compile(r"^[A-Z0-9]{12}:[A-Z0-9]{4}(:[A-Z0-9]{12})?$", re.IGNORECASE)
_LEGACY_AZURE_OFFER = re.compile(r"^MS-AZR-\d{4}[A-Z]$", re.IGNORECASE)

STATUSES: dict[str, SubscriptionStatus] = {
    "active": SubscriptionStatus.ACTIVE,
    "suspended": SubscriptionStatus.SUSPENDED,
    # Partner Center calls a cancelled subscription "deleted" (it stays readable for 90 days).
    "deleted": SubscriptionStatus.CANCELED,
    "canceled": SubscriptionStatus.CANCELED,
    "cancelled": SubscriptionStatus.CANCELED,
    "expired": SubscriptionStatus.EXPIRED,
}
_STATUS_REFUSALS = {
    "pending": "the subscription is still being provisioned; import it again once it is active",
    "disabled": "Partner Center does not say whether a disabled subscription was cancelled or expired",
}

TERMS: dict[str, Term] = {"p1m": Term.P1M, "p1y": Term.P1Y, "p3y": Term.P3Y}

CYCLES: dict[str, BillingCycle] = {
    "monthly": BillingCycle.MONTHLY,
    "annual": BillingCycle.ANNUAL,
    "triennial": BillingCycle.TRIENNIAL,
}

TRANSITION_KINDS: dict[str, TransitionKind] = {token(kind.value): kind for kind in TransitionKind}
#: Legacy `upgradeType` sent as a number (the .NET enum's ordinal); 0 is "none", i.e. no upgrade.
LEGACY_UPGRADE_TYPES = {1: TransitionKind.UPGRADE_ONLY, 2: TransitionKind.UPGRADE_WITH_LICENSE_TRANSFER}

TRANSITION_STATES: dict[str, TransitionState] = {token(state.value): state for state in TransitionState}


def status(fields: Fields) -> tuple[SubscriptionStatus, str]:
    raw = fields.required_text("status")
    found = STATUSES.get(token(raw))
    if found is None:
        why = _STATUS_REFUSALS.get(token(raw), "not a subscription status contractsync knows")
        raise fields.error("status", f"{raw!r}: {why}")
    return found, raw


def offer_kind(fields: Fields, offer_id: str) -> OfferKind:
    """nce / legacy / azure_plan / software, from `productType` when present, else from the offer id."""
    product_type = fields.child("productType")
    if product_type is not None and product_type.has("id"):
        return _kind_from_product_type(product_type, offer_id)
    if _LEGACY_AZURE_OFFER.match(offer_id):
        # Legacy Microsoft Azure (MS-AZR-0145P): usage billed monthly in arrears, no seats, no end —
        # the same billing behaviour (and the same Autotask rules, R2b/R4) as an Azure plan.
        return OfferKind.AZURE_PLAN
    if is_guid(offer_id):
        return OfferKind.LEGACY  # legacy licence offers are GUIDs ("Microsoft License Legacy")
    if _NCE_OFFER.match(offer_id):
        product = offer_id.split(":")[0].upper()
        if product == AZURE_PLAN_PRODUCT:
            return OfferKind.AZURE_PLAN
        if product.startswith(SOFTWARE_PREFIX):
            return OfferKind.SOFTWARE
        # Licence-based new commerce, third-party marketplace SaaS included: same term rules.
        return OfferKind.NCE
    raise fields.error(
        "offerId",
        f"{offer_id!r} is neither a new-commerce id (product:sku:availability), "
        "a legacy offer GUID nor a legacy Azure offer (MS-AZR-…)",
    )


def _kind_from_product_type(product_type: Fields, offer_id: str) -> OfferKind:
    raw = product_type.required_text("id")
    kind = token(raw)
    if kind == "onlineservicesnce":
        found = OfferKind.NCE
    elif kind == "software":
        found = OfferKind.SOFTWARE
    elif kind == "azure":
        sub_type = product_type.child("subType")
        sub = sub_type.text("id") if sub_type is not None else None
        if sub is not None and token(sub) != "azureplan":
            raise product_type.error(
                "subType.id",
                f"Azure {sub!r} is an Azure benefit bought for a term (savings plan / reservation), "
                "not a recurring subscription contractsync bills",
            )
        found = OfferKind.AZURE_PLAN
    else:
        raise product_type.error("id", f"{raw!r} is not a product type contractsync knows")
    if not _NCE_OFFER.match(offer_id):
        raise product_type.error(
            "id",
            f"{raw!r} is a new-commerce product type, but offerId {offer_id!r} is not product:sku:availability",
        )
    return found


def term(fields: Fields, name: str, kind: OfferKind | None) -> tuple[Term | None, str | None]:
    """(term, the default used or None). `kind` None: no default applies (the value is optional)."""
    raw = fields.text(name)
    if raw is not None:
        found = TERMS.get(token(raw))
        if found is None:
            raise fields.error(name, f"{raw!r} is not a term contractsync knows (P1M, P1Y, P3Y)")
        return found, None
    if kind is OfferKind.LEGACY:
        # Legacy licence subscriptions carry no termDuration: they commit for a year and renew on
        # the commitment end date (the samples' commitmentEndDate is a year after the start).
        return Term.P1Y, "term P1Y: legacy licence subscriptions commit for one year"
    if kind is OfferKind.AZURE_PLAN:
        # Usage-based Azure has no commitment: a monthly term (its end date is open anyway).
        return Term.P1M, "term P1M: usage-based Azure has no commitment term"
    if kind is None:
        return None, None
    raise fields.error(name, "is missing (a new-commerce subscription always has one)")


def billing_cycle(
    fields: Fields, name: str, kind: OfferKind | None
) -> tuple[BillingCycle | None, str | None]:
    """(cycle, the default used or None). `kind` None: no default applies (the value is optional)."""
    raw = fields.text(name)
    cycle = token(raw) if raw is not None else None
    if cycle is not None and cycle in CYCLES:
        return CYCLES[cycle], None
    if cycle == "onetime":
        raise fields.error(
            name, f"{raw!r}: a one-time purchase has no recurring billing contractsync can keep in step"
        )
    usage = kind is OfferKind.AZURE_PLAN
    if cycle == "none" and usage:
        # Azure consumption is invoiced monthly in arrears whatever the record says.
        return (
            BillingCycle.MONTHLY,
            "billing cycle monthly: Azure usage is invoiced monthly ('none' in the file)",
        )
    if cycle is not None:
        raise fields.error(
            name, f"{raw!r} is not a billing cycle contractsync knows (monthly, annual, triennial)"
        )
    if usage:
        return (
            BillingCycle.MONTHLY,
            "billing cycle monthly: Azure usage is invoiced monthly (none in the file)",
        )
    if kind is OfferKind.LEGACY:
        # Records from before billingCycle existed (2017 API) are legacy, which billed monthly.
        return BillingCycle.MONTHLY, "billing cycle monthly: legacy records without billingCycle bill monthly"
    if kind is None:
        return None, None
    raise fields.error(name, "is missing (a new-commerce subscription always has one)")


def transition_kind(fields: Fields, name: str) -> TransitionKind:
    value = fields.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        if value in LEGACY_UPGRADE_TYPES:
            return LEGACY_UPGRADE_TYPES[value]
        raise fields.error(name, f"{value!r} is not an upgrade type contractsync knows (1 or 2)")
    raw = fields.required_text(name)
    found = TRANSITION_KINDS.get(token(raw))
    if found is None:
        raise fields.error(name, f"{raw!r} is not a transition type contractsync knows")
    return found


def transition_state(fields: Fields, name: str) -> TransitionState:
    raw = fields.required_text(name)
    found = TRANSITION_STATES.get(token(raw))
    if found is None:
        raise fields.error(name, f"{raw!r} is not a transition status contractsync knows")
    return found
