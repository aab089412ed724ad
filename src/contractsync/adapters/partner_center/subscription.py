"""One Partner Center Subscription resource → `PartnerCenterSubscription`."""

from __future__ import annotations

import re

from contractsync.adapters.partner_center import vocabulary as vocab
from contractsync.adapters.partner_center.values import Fields
from contractsync.ports.partner_center_documents import (
    PartnerCenterSubscription,
    ScheduledNextTerm,
    is_guid,
    normalise_id,
)

#: The customer's tenant id is not a field of a subscription: it is in the resource's own link.
_CUSTOMER_IN_URI = re.compile(r"/customers/([^/?]+)/subscriptions/", re.IGNORECASE)


def parse_subscription(fields: Fields) -> PartnerCenterSubscription:
    offer_id = fields.required_text("offerId")
    kind = vocab.offer_kind(fields, offer_id)
    status, raw_status = vocab.status(fields)
    quantity = fields.integer("quantity")
    if quantity is None:
        raise fields.error("quantity", "is missing")
    term, term_default = vocab.term(fields, "termDuration", kind)
    cycle, cycle_default = vocab.billing_cycle(fields, "billingCycle", kind)
    assert term is not None and cycle is not None  # a kind is given, so a default or an error applies
    start, _ = fields.day("effectiveStartDate")
    end, sentinel = fields.day("commitmentEndDate")
    if end is None and not sentinel:
        end, sentinel = fields.day("commitmentEndDateTime")
    if end is None and not sentinel and status.value in ("active", "suspended"):
        raise fields.error("commitmentEndDate", "is missing")
    if start is not None and end is not None and end < start:
        raise fields.error("commitmentEndDate", f"{end.isoformat()} is before the start {start.isoformat()}")
    parent = fields.text("parentSubscriptionId")
    return PartnerCenterSubscription(
        source=fields.source,
        record=fields.record,
        id=normalise_id(fields.required_text("id")),
        customer_tenant_id=customer_tenant_id(fields),
        offer_id=offer_id,
        offer_name=fields.text("offerName"),
        friendly_name=fields.text("friendlyName"),
        kind=kind,
        quantity=quantity,
        status=status,
        partner_center_status=raw_status,
        term=term,
        billing_cycle=cycle,
        start_date=start,
        end_date=end,
        auto_renew=fields.boolean("autoRenewEnabled"),
        scheduled_next_term=_next_term(fields),
        parent_subscription_id=normalise_id(parent) if parent else None,
        defaults=tuple(d for d in (term_default, cycle_default) if d),
    )


def customer_tenant_id(fields: Fields) -> str | None:
    """An explicit customer id field if a caller's export adds one, else the one in `links.self.uri`."""
    for name in ("customerTenantId", "customerId", "tenantId"):
        value = fields.text(name)
        if value is not None:
            if not is_guid(value):
                raise fields.error(name, f"{value!r} is not a tenant id (a GUID)")
            return value.lower()
    links = fields.child("links")
    own = links.child("self") if links is not None else None
    uri = own.text("uri") if own is not None else None
    match = _CUSTOMER_IN_URI.search(uri or "")
    if match is None or not is_guid(match[1]):
        return None  # templated or absent: the import then reports the customer as unknown
    return match[1].lower()


def _next_term(fields: Fields) -> ScheduledNextTerm | None:
    instructions = fields.child("scheduledNextTermInstructions")
    if instructions is None:
        return None
    product = instructions.child("product")
    offer_id = None
    term = cycle = None
    if product is not None:
        parts = [product.text(name) for name in ("productId", "skuId", "availabilityId")]
        offer_id = ":".join(p for p in parts if p) or None
        term, _ = vocab.term(product, "termDuration", None)
        cycle, _ = vocab.billing_cycle(product, "billingCycle", None)
    custom_end, _ = instructions.day("customTermEndDate")
    return ScheduledNextTerm(
        offer_id=offer_id,
        term=term,
        billing_cycle=cycle,
        quantity=instructions.integer("quantity"),
        custom_term_end_date=custom_end,
    )
