"""Every technical name a billing manager may see has a plain-language label."""

from __future__ import annotations

from contractsync.domain.enums import BillingCycle, OfferKind, RecordType, Term
from contractsync.domain.labels import (
    BILLING_CYCLE_LABELS,
    OFFER_KIND_LABELS,
    RECORD_LABELS,
    TERM_LABELS,
    offer_label,
    record_label,
)


def test_every_vocabulary_member_has_a_label() -> None:
    assert set(RECORD_LABELS) == set(RecordType)
    assert set(OFFER_KIND_LABELS) == set(OfferKind)
    assert set(TERM_LABELS) == set(Term)
    assert set(BILLING_CYCLE_LABELS) == set(BillingCycle)
    assert len(set(RECORD_LABELS.values())) == len(RecordType)


def test_labels_read_as_plain_language() -> None:
    assert record_label("UpdateSubscriptionQuantityOnConnection") == "Quantity change"
    assert record_label("SomethingNew") == "SomethingNew"
    assert offer_label("nce", "P1Y") == "New commerce, 1 year"
    assert offer_label("azure_plan") == "Azure plan"
    assert offer_label("nce", "P5Y") == "New commerce, P5Y"
