"""Every Partner Center reference file, read as published, gives the values read off it by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from contractsync.adapters.partner_center import (
    DocumentKind,
    PartnerCenterSubscription,
    PartnerCenterTransition,
    ScheduledNextTerm,
    TransitionKind,
    TransitionState,
    read_document,
)
from contractsync.domain.enums import BillingCycle, OfferKind, SubscriptionStatus, Term
from tests.unit.partner_center.samples import needs_samples, sample_files

pytestmark = needs_samples

ACTIVE, SUSPENDED = SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED
MONTHLY = BillingCycle.MONTHLY

#: file → (document kind, object type, subscriptions, transitions, errors (record, field), ignored reason part)
EXPECTED: dict[str, dict[str, Any]] = {
    "pcps-legacy-subscriptions-collection.json": {  # UTF-8 BOM, 9999 sentinel, suspended legacy
        "kind": DocumentKind.SUBSCRIPTIONS,
        "object_type": "Collection",
        "subscriptions": [
            {
                "record": "items[0]",
                "id": "4f26a5ca-c468-4715-8fc5-a14f28bcc29b",
                "customer_tenant_id": "46a62ece-10ad-42e5-b3f1-b2ed53e6fc08",
                "offer_id": "MS-AZR-0145P",
                "offer_name": "Microsoft Azure",
                "friendly_name": "Microsoft Azure",
                "kind": OfferKind.AZURE_PLAN,
                "quantity": 1,
                "status": ACTIVE,
                "term": Term.P1M,
                "billing_cycle": MONTHLY,
                "start_date": date(2018, 4, 4),
                "end_date": None,
                "auto_renew": False,
            },
            {
                "record": "items[1]",
                "id": "b34024c7-9258-4841-bd0b-1e2a5d5c9d8d",
                "customer_tenant_id": "46a62ece-10ad-42e5-b3f1-b2ed53e6fc08",
                "offer_id": "BD938F12-058F-4927-BBA3-AE36B1D2501C",
                "offer_name": "Office 365 Business Essentials",
                "kind": OfferKind.LEGACY,
                "quantity": 1,
                "status": SUSPENDED,
                "term": Term.P1Y,
                "billing_cycle": MONTHLY,
                "start_date": date(2018, 3, 26),
                "end_date": date(2019, 3, 26),
                "auto_renew": True,
            },
        ],
    },
    "doc-legacy-azure-0145p-subscription.json": {
        "kind": DocumentKind.SUBSCRIPTIONS,
        "object_type": "Subscription",
        "subscriptions": [
            {
                "id": "a356ac8c-e310-44f4-bf85-c7f29044af99",
                "customer_tenant_id": "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04",
                "offer_id": "MS-AZR-0145P",
                "kind": OfferKind.AZURE_PLAN,
                "quantity": 1,
                "status": ACTIVE,
                "term": Term.P1M,
                "billing_cycle": MONTHLY,  # absent in the file: Azure usage is invoiced monthly
                "start_date": date(2016, 5, 10),
                "end_date": None,  # 9999-12-10
                "auto_renew": False,
            }
        ],
    },
    "doc-legacy-addon-subscription.json": {
        "kind": DocumentKind.SUBSCRIPTIONS,
        "object_type": "Subscription",
        "subscriptions": [
            {
                "id": "968ba1cf-c146-4adf-a300-308dcf718eee",
                "offer_id": "2828BE95-46BA-4F91-B2FD-0BEF192ECF60",
                "offer_name": "Exchange Online Archiving for Exchange Online",
                "friendly_name": "Some friendly name",
                "kind": OfferKind.LEGACY,
                "quantity": 2,
                "status": ACTIVE,
                "term": Term.P1Y,
                "billing_cycle": MONTHLY,
                "start_date": date(2017, 1, 25),
                "end_date": date(2018, 2, 10),
                "auto_renew": True,
                "parent_subscription_id": "1c2b75c1-74a5-472a-a729-7f8cefc477f9",
            }
        ],
    },
    "doc-nce-m365-business-basic-expired.json": {
        "kind": DocumentKind.SUBSCRIPTIONS,
        "object_type": "Subscription",
        "subscriptions": [
            {
                "id": "a4c1340d-6911-4758-bba3-0c4c6007d161",
                "customer_tenant_id": "d8202a51-69f9-4228-b900-d0e081af17d7",
                "offer_id": "CFQ7TTC0LH18:0001:CFQ7TTC0K971",
                "kind": OfferKind.NCE,
                "quantity": 15,
                "status": SubscriptionStatus.EXPIRED,
                "term": Term.P1Y,
                "billing_cycle": MONTHLY,
                "start_date": date(2021, 1, 14),
                "end_date": date(2022, 1, 13),
                "auto_renew": False,
                "defaults": (),
            }
        ],
    },
    "doc-nce-software-with-scheduled-next-term.json": {
        "kind": DocumentKind.SUBSCRIPTIONS,
        "object_type": "Subscription",
        "subscriptions": [
            {
                "id": "d3b7c9a2-9a4b-40b2-b075-6e442909e3e7",
                "offer_id": "DG7GMGF0DVSV:000P:DG7GMGF0F3Q9",
                "kind": OfferKind.SOFTWARE,
                "quantity": 1,
                "status": ACTIVE,
                "term": Term.P3Y,
                "billing_cycle": BillingCycle.TRIENNIAL,
                "start_date": date(2021, 9, 14),
                "end_date": date(2024, 9, 13),
                "auto_renew": True,
                # "Annual" in the instructions vs "triennial" at the top level
                "scheduled_next_term": ScheduledNextTerm(
                    "DG7GMGF0DVSV:000P:DG7GMGF0F3Q9", Term.P3Y, BillingCycle.ANNUAL, 1
                ),
            }
        ],
    },
    "doc-marketplace-saas-subscription-cancelled.json": {
        "kind": DocumentKind.SUBSCRIPTIONS,
        "object_type": "Subscription",
        "subscriptions": [
            {
                "id": "6e7aa601-629e-461b-8933-0898c3cc3c7c",
                "customer_tenant_id": "5921f00a-32c0-4457-aaa1-e8018c650895",
                "kind": OfferKind.NCE,  # third-party SaaS: licence-based new commerce
                "status": SubscriptionStatus.CANCELED,
                "partner_center_status": "deleted",
                "term": Term.P1M,
                "billing_cycle": MONTHLY,
                "start_date": date(2019, 1, 9),  # "+00:00" with 7 fractional digits
                "end_date": date(2019, 2, 8),
                "auto_renew": False,
            }
        ],
    },
    "doc-azure-savings-plan-subscription.json": {  # billingCycle one_time: refused, never guessed
        "kind": DocumentKind.SUBSCRIPTIONS,
        "object_type": "Subscription",
        "errors": [("document", "productType.subType.id")],
    },
    "doc-legacy-upgrade-result.json": {
        "kind": DocumentKind.TRANSITIONS,
        "object_type": "UpgradeResult",
        "transitions": [
            {
                "from_subscription_id": "896a2862-67e2-4f3d-bb3f-c50c42b5fad8",
                "to_subscription_id": "2add8a55-454a-4ae5-a4c9-5107dc6e9768",
                "quantity": None,
                "kind": TransitionKind.UPGRADE_ONLY,  # numeric upgradeType 1
                "state": TransitionState.COMPLETED,
                "legacy": True,
                "errors": (),
            }
        ],
    },
    "doc-nce-transition-response.json": {  # "Events" PascalCase, status "Started " with a space
        "kind": DocumentKind.TRANSITIONS,
        "object_type": "Transition",
        "transitions": [
            {
                "from_subscription_id": "e487e8dc-421e-4275-cb42-3c1c8daccf70",
                "to_subscription_id": "0af52192-4a2a-4364-d25b-c8ecab3a5697",
                "from_offer_id": "CFQ7TTC0LF8Q:0001:CFQ7TTC0K39X",
                "to_offer_id": "CFQ7TTC0LF8R:0001:CFQ7TTC0KCSV",
                "quantity": 2,
                "kind": TransitionKind.TRANSITION_ONLY,
                "state": TransitionState.STARTED,
                "occurred_on": date(2021, 1, 8),
                "term": Term.P1M,
                "billing_cycle": MONTHLY,  # "Monthly"
            }
        ],
    },
    "doc-nce-transitions-history.json": {  # FromCatalogItemId / ToCatalogItemId / Events
        "kind": DocumentKind.TRANSITIONS,
        "object_type": "Collection",
        "transitions": [
            {
                "record": "transition[0]",
                "from_subscription_id": None,
                "to_subscription_id": None,
                "from_offer_id": "CFQ7TTC0LDPB:0001:CFQ7TTC0LGNT",
                "to_offer_id": "CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9",
                "quantity": 1,
                "kind": TransitionKind.TRANSITION_WITH_LICENSE_TRANSFER,
                "state": TransitionState.COMPLETED,  # Started, then Completed
                "occurred_on": date(2021, 1, 8),
            }
        ],
    },
    "doc-azure-plan-entitlements.json": {"kind": DocumentKind.IGNORED, "ignored": "entitlements"},
    "doc-azure-plan-usagerecords.json": {"kind": DocumentKind.IGNORED, "ignored": "usage records"},
    "doc-nce-transition-eligibilities.json": {"kind": DocumentKind.IGNORED, "ignored": "could be made"},
    "doc-legacy-upgrades-get-response.json": {"kind": DocumentKind.IGNORED, "ignored": "could be made"},
    "doc-nce-cart-annual-term-monthly-billing.json": {
        "kind": DocumentKind.IGNORED,
        "object_type": "Cart",
        "ignored": "cart",
    },
    "doc-nce-order-monthly-term-with-pricing.json": {
        "kind": DocumentKind.IGNORED,
        "object_type": "Order",
        "ignored": "order",
    },
    "doc-nce-promotions.json": {"kind": DocumentKind.IGNORED, "ignored": "promotions"},
    "doc-webhook-subscription-updated.json": {"kind": DocumentKind.IGNORED, "ignored": "webhook"},
}

FILES = sample_files()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_reference_file_reads_as_expected(path: Path) -> None:
    assert path.name in EXPECTED, f"{path.name} is new in the reference folder: add what it should read as"
    want = EXPECTED[path.name]
    document = read_document(path)
    assert document.source == path.name
    assert document.kind is want["kind"]
    if "object_type" in want:
        assert document.object_type == want["object_type"]
    _check(document.subscriptions, want.get("subscriptions", []))
    _check(document.transitions, want.get("transitions", []))
    assert [(e.record, e.field) for e in document.errors] == want.get("errors", [])
    if "ignored" in want:
        assert document.ignored_reason is not None and want["ignored"] in document.ignored_reason
        assert document.record_count == 0
    else:
        assert document.ignored_reason is None


def _check(
    got: list[PartnerCenterSubscription] | list[PartnerCenterTransition], want: list[dict[str, Any]]
) -> None:
    assert len(got) == len(want)
    for record, fields in zip(got, want, strict=True):
        fields = {"record": "document", **fields}
        assert {name: getattr(record, name) for name in fields} == fields


def test_the_reference_folder_holds_every_expected_file() -> None:
    assert {p.name for p in FILES} == set(EXPECTED)


def test_the_collection_file_really_starts_with_a_bom() -> None:
    """Guards the BOM case: if the fixture were re-saved without one, the test above would prove less."""
    path = next(p for p in FILES if p.name.startswith("pcps-"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
