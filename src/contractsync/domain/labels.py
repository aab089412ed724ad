"""Plain-language names of the domain's vocabularies, for people reading a table or a page.

The technical names (`UpdateSubscriptionQuantityOnConnection`, `P1Y`, `nce`) stay the wire and
audit format; these are what a billing manager reads beside them."""

from __future__ import annotations

from contractsync.domain.enums import BillingCycle, OfferKind, RecordType, Term

RECORD_LABELS: dict[RecordType, str] = {
    RecordType.UPDATE_QUANTITY: "Quantity change",
    RecordType.UPDATE_PRICE_MARGIN: "Price margin change",
    RecordType.CANCEL: "Cancellation",
    RecordType.SUSPEND_AZURE_PLAN: "Azure plan suspension",
    RecordType.UPDATE_CUSTOMER_MARGINS: "Customer markup change",
    RecordType.EXPIRE: "Expiry",
    RecordType.RENEW: "Renewal",
    RecordType.CANCEL_RENEWED: "Cancellation after renewal",
    RecordType.UPDATE_UNSUPPORTED: "Change needing review",
    RecordType.UPGRADE: "Upgrade",
    RecordType.SUSPEND: "Suspension",
    RecordType.CHANGE_RESELLER: "Reseller change",
    RecordType.MAP_SUBSCRIPTION: "Subscription mapping",
    RecordType.MAP_CUSTOMER: "Customer mapping",
    RecordType.RECONCILE: "Reconciliation correction",
}

OFFER_KIND_LABELS: dict[OfferKind, str] = {
    OfferKind.NCE: "New commerce",
    OfferKind.LEGACY: "Legacy",
    OfferKind.AZURE_PLAN: "Azure plan",
    OfferKind.SOFTWARE: "Software",
}

TERM_LABELS: dict[Term, str] = {Term.P1M: "1 month", Term.P1Y: "1 year", Term.P3Y: "3 years"}

BILLING_CYCLE_LABELS: dict[BillingCycle, str] = {
    BillingCycle.MONTHLY: "billed monthly",
    BillingCycle.ANNUAL: "billed yearly",
    BillingCycle.TRIENNIAL: "billed every 3 years",
}


def record_label(record_type: str) -> str:
    """ "Quantity change" for UpdateSubscriptionQuantityOnConnection; an unknown type as it is."""
    try:
        return RECORD_LABELS[RecordType(record_type)]
    except ValueError:
        return record_type


def offer_label(kind: str, term: str | None = None) -> str:
    """ "New commerce, 1 year" for ("nce", "P1Y"); unknown values as they are."""
    try:
        text = OFFER_KIND_LABELS[OfferKind(kind)]
    except ValueError:
        text = kind
    if term is None:
        return text
    try:
        return f"{text}, {TERM_LABELS[Term(term)]}"
    except ValueError:
        return f"{text}, {term}"
