"""The reader on made-up documents: tolerated drift, and the named errors for what it refuses."""

from __future__ import annotations

import codecs
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from contractsync.adapters.partner_center import (
    DocumentKind,
    PartnerCenterFormatError,
    PartnerCenterSubscription,
    parse_document,
    read_document,
)
from contractsync.domain.enums import BillingCycle, OfferKind, SubscriptionStatus, Term

TENANT = "0a8f6c2e-1d3b-4c5a-9e7f-2b4d6f8a0c1e"
SUB = "5b2c9d1e-7f3a-4e6b-8c0d-1a2b3c4d5e6f"


def nce(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": SUB,
        "offerId": "CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9",
        "offerName": "Office 365 E5",
        "friendlyName": "E5 for sales",
        "productType": {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"},
        "quantity": 10,
        "effectiveStartDate": "2024-01-15T10:11:12.1234567Z",
        "commitmentEndDate": "2025-01-14T00:00:00Z",
        "status": "active",
        "autoRenewEnabled": True,
        "billingCycle": "monthly",
        "termDuration": "P1Y",
        "links": {"self": {"uri": f"/customers/{TENANT}/subscriptions/{SUB}", "method": "GET"}},
        "attributes": {"objectType": "Subscription"},
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def one(document: dict[str, Any] | list[Any]) -> PartnerCenterSubscription:
    parsed = parse_document(json.dumps(document), "test.json")
    assert not parsed.errors, parsed.errors
    (subscription,) = parsed.subscriptions
    return subscription


def refused(document: dict[str, Any]) -> PartnerCenterFormatError:
    parsed = parse_document(json.dumps(document), "test.json")
    assert not parsed.subscriptions
    (error,) = parsed.errors
    return error


def pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def test_a_plain_nce_subscription() -> None:
    s = one(nce())
    assert (s.id, s.customer_tenant_id, s.kind, s.quantity, s.status) == (
        SUB,
        TENANT,
        OfferKind.NCE,
        10,
        SubscriptionStatus.ACTIVE,
    )
    assert (s.term, s.billing_cycle, s.start_date, s.end_date, s.auto_renew) == (
        Term.P1Y,
        BillingCycle.MONTHLY,
        date(2024, 1, 15),
        date(2025, 1, 14),
        True,
    )
    assert (s.offer_name, s.friendly_name, s.defaults) == ("Office 365 E5", "E5 for sales", ())


def test_pascal_case_keys_read_the_same() -> None:
    assert one(pascal(nce())) == one(nce())


@pytest.mark.parametrize(
    ("status", "cycle", "term"),
    [("Active", "Monthly", "p1y"), (" ACTIVE ", "MONTHLY", "P1Y "), ("active", "monthly", "P1Y")],
)
def test_enum_casing_and_spacing_drift(status: str, cycle: str, term: str) -> None:
    s = one(nce(status=status, billingCycle=cycle, termDuration=term))
    assert (s.status, s.billing_cycle, s.term) == (SubscriptionStatus.ACTIVE, BillingCycle.MONTHLY, Term.P1Y)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("suspended", SubscriptionStatus.SUSPENDED),
        ("deleted", SubscriptionStatus.CANCELED),
        ("Cancelled", SubscriptionStatus.CANCELED),
        ("expired", SubscriptionStatus.EXPIRED),
    ],
)
def test_status_mapping(status: str, expected: SubscriptionStatus) -> None:
    s = one(nce(status=status))
    assert (s.status, s.partner_center_status) == (expected, status)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2024-01-15T23:30:00Z", date(2024, 1, 15)),
        ("2024-01-15T23:30:00+00:00", date(2024, 1, 15)),
        ("2024-01-15T23:30:00.1234567", date(2024, 1, 15)),  # no offset: UTC
        ("2024-01-15T23:30:00-02:00", date(2024, 1, 16)),  # converted to UTC
        ("2024-01-15", date(2024, 1, 15)),
    ],
)
def test_timestamp_forms(start: str, expected: date) -> None:
    assert one(nce(effectiveStartDate=start)).start_date == expected


def test_the_9999_sentinel_means_no_end() -> None:
    s = one(nce(commitmentEndDate="9999-12-14T00:00:00Z"))
    assert s.end_date is None and s.open_ended


def test_empty_strings_are_absent() -> None:
    s = one(nce(friendlyName="", renewalTermDuration="", partnerId=""))
    assert s.friendly_name is None


def test_the_customer_may_be_given_explicitly() -> None:
    other = "11111111-2222-3333-4444-555555555555"
    assert one(nce(customerId=other.upper(), links=...)).customer_tenant_id == other
    assert one(nce(links=...)).customer_tenant_id is None


def test_uppercase_guids_are_stored_lower_case() -> None:
    assert one(nce(id=SUB.upper())).id == SUB


def test_scheduled_next_term_with_a_custom_end_without_offset() -> None:
    s = one(
        nce(
            scheduledNextTermInstructions={
                "product": {
                    "productId": "CFQ7TTC0LF8S",
                    "skuId": "0001",
                    "availabilityId": "X",
                    "termDuration": "P1M",
                },
                "quantity": 12,
                "customTermEndDate": "2026-03-31T00:00:00",
            }
        )
    )
    assert s.scheduled_next_term is not None
    assert s.scheduled_next_term.term is Term.P1M
    assert s.scheduled_next_term.billing_cycle is None
    assert s.scheduled_next_term.quantity == 12
    assert s.scheduled_next_term.custom_term_end_date == date(2026, 3, 31)


def test_utf8_and_utf16_boms(tmp_path: Path) -> None:
    text = json.dumps(nce())
    utf8 = tmp_path / "test.json"
    utf8.write_bytes(codecs.BOM_UTF8 + text.encode())
    assert read_document(utf8).subscriptions == [one(nce())]
    utf8.write_bytes(text.encode("utf-16"))  # with its BOM, as PowerShell writes it
    assert read_document(utf8).subscriptions == [one(nce())]


def test_a_bare_list_and_an_items_collection() -> None:
    second = nce(id="6c3d0e2f-8a4b-5f7c-9d1e-2b3c4d5e6f70", quantity=3)
    for document in ([nce(), second], {"totalCount": 2, "items": [nce(), second]}):
        parsed = parse_document(json.dumps(document), "test.json")
        assert [s.quantity for s in parsed.subscriptions] == [10, 3]
        assert parsed.subscriptions[1].record.endswith("[1]")


def test_one_bad_record_does_not_stop_the_others() -> None:
    parsed = parse_document(json.dumps({"items": [nce(status="Frozen"), nce(quantity=4)]}), "test.json")
    assert [s.quantity for s in parsed.subscriptions] == [4]
    (error,) = parsed.errors
    assert (error.source, error.record, error.field) == ("test.json", "items[0]", "status")


def test_an_empty_collection_is_a_customer_without_subscriptions() -> None:
    parsed = parse_document('{"totalCount": 0, "items": []}', "test.json")
    assert parsed.kind is DocumentKind.SUBSCRIPTIONS and parsed.record_count == 0


# --- legacy and Azure defaults ---------------------------------------------------------------------


def test_legacy_without_term_or_cycle_gets_the_documented_defaults() -> None:
    s = one(
        nce(
            offerId="91FD106F-4B2C-4938-95AC-F54F74E9A239",
            productType=...,
            termDuration=...,
            billingCycle=...,
        )
    )
    assert (s.kind, s.term, s.billing_cycle) == (OfferKind.LEGACY, Term.P1Y, BillingCycle.MONTHLY)
    assert len(s.defaults) == 2


@pytest.mark.parametrize(
    "offer", ["MS-AZR-0145P", "DZH318Z0BPS6:0001:DZH318Z0BML6"], ids=["legacy-azure", "azure-plan"]
)
def test_azure_offers_are_azure_plans_billed_monthly(offer: str) -> None:
    s = one(nce(offerId=offer, productType=..., termDuration=..., billingCycle="none"))
    assert (s.kind, s.term, s.billing_cycle) == (OfferKind.AZURE_PLAN, Term.P1M, BillingCycle.MONTHLY)


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"productType": {"id": "Software"}}, OfferKind.SOFTWARE),
        ({"productType": {"id": "Azure"}, "offerId": "DZH318Z0BPS6:0001:DZH318Z0BML6"}, OfferKind.AZURE_PLAN),
        ({"productType": ..., "offerId": "DG7GMGF0DVSV:000P:DG7GMGF0F3Q9"}, OfferKind.SOFTWARE),
        ({"productType": ..., "offerId": "DZH318Z0BXWC:0001:DZH318Z0BMJX"}, OfferKind.NCE),
    ],
)
def test_kind_from_product_type_or_offer(changes: dict[str, Any], kind: OfferKind) -> None:
    assert one(nce(**changes)).kind is kind


# --- refusals: named errors, never guesses --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"status": "Frozen"}, "status", "Frozen"),
        ({"status": "pending"}, "status", "provisioned"),
        ({"status": "disabled"}, "status", "disabled"),
        ({"status": ...}, "status", "missing"),
        ({"billingCycle": "fortnightly"}, "billingCycle", "fortnightly"),
        ({"billingCycle": "one_time"}, "billingCycle", "one-time"),
        ({"billingCycle": "none"}, "billingCycle", "none"),
        ({"billingCycle": ...}, "billingCycle", "missing"),
        ({"termDuration": "P2Y"}, "termDuration", "P2Y"),
        ({"termDuration": ...}, "termDuration", "missing"),
        ({"quantity": 2.5}, "quantity", "whole number"),
        ({"quantity": -1}, "quantity", "negative"),
        ({"quantity": ...}, "quantity", "missing"),
        ({"autoRenewEnabled": "sometimes"}, "autoRenewEnabled", "true or false"),
        ({"commitmentEndDate": "next year"}, "commitmentEndDate", "ISO 8601"),
        ({"commitmentEndDate": "2025-02-30T00:00:00Z"}, "commitmentEndDate", "valid date"),
        ({"commitmentEndDate": "2023-01-01T00:00:00Z"}, "commitmentEndDate", "before the start"),
        ({"commitmentEndDate": ...}, "commitmentEndDate", "missing"),
        ({"offerId": "E5-PLEASE", "productType": ...}, "offerId", "new-commerce"),
        ({"offerId": "E5-PLEASE"}, "productType.id", "product:sku:availability"),
        ({"offerId": "91FD106F-4B2C-4938-95AC-F54F74E9A239"}, "productType.id", "product:sku:availability"),
        ({"productType": {"id": "Hardware"}}, "productType.id", "Hardware"),
        (
            {"productType": {"id": "Azure", "subType": {"id": "SavingsPlan"}}},
            "productType.subType.id",
            "benefit",
        ),
        ({"customerId": "contoso"}, "customerId", "GUID"),
        ({"Quantity": 3}, "Quantity", "twice"),
    ],
)
def test_unknown_values_are_named_errors(changes: dict[str, Any], field: str, words: str) -> None:
    error = refused(nce(**changes))
    assert (error.source, error.record, error.field) == ("test.json", "document", field)
    assert words in error.message
    assert str(error).startswith(f"test.json: document: {field}: ")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not json", "not valid JSON"),
        (b"", "empty"),
        (b"\xef\xbb\xbf   ", "empty"),
        (b"\xff\xfe\x00\xd8", "not UTF-16"),
        (b"\x80\x81", "not UTF-8"),
        (b"42", "not an object or a list"),
        (b'{"hello": "world"}', "not a Partner Center"),
        (b'{"items": [], "Items": []}', "twice"),
    ],
)
def test_unreadable_documents_raise(data: bytes, words: str) -> None:
    with pytest.raises(PartnerCenterFormatError) as caught:
        parse_document(data, "bad.json")
    assert (caught.value.source, caught.value.record) == ("bad.json", "document")
    assert words in caught.value.message


def test_a_missing_file_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(PartnerCenterFormatError, match=r"^gone\.json: document: cannot be read"):
        read_document(tmp_path / "gone.json")


# --- transitions -----------------------------------------------------------------------------------


def transition(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "fromSubscriptionId": SUB,
        "toSubscriptionId": "6c3d0e2f-8a4b-5f7c-9d1e-2b3c4d5e6f70",
        "quantity": 2,
        "transitionType": "transition_only",
        "Events": [
            {"name": "Conversion", "status": "Completed", "timestamp": "2024-03-01T18:01:14.7488618Z"}
        ],
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"transitionType": "teleport"}, "transitionType"),
        ({"quantity": 0}, "quantity"),
        ({"Events": [{"status": "Paused"}]}, "events[0].status"),
        ({"Events": ...}, "events"),
    ],
)
def test_bad_transitions_are_named_errors(changes: dict[str, Any], field: str) -> None:
    parsed = parse_document(json.dumps(transition(**changes)), "t.json")
    assert parsed.kind is DocumentKind.TRANSITIONS
    (error,) = parsed.errors
    assert error.field == field


def test_legacy_upgrade_types_numeric_and_unknown() -> None:
    body = {
        "sourceSubscriptionId": SUB,
        "targetSubscriptionId": SUB,
        "upgradeErrors": [],
        "licenseErrors": [],
    }
    parsed = parse_document(json.dumps({**body, "upgradeType": 2}), "u.json")
    assert parsed.transitions[0].kind.value == "upgrade_with_license_transfer"
    parsed = parse_document(json.dumps({**body, "upgradeType": 0}), "u.json")
    assert parsed.errors[0].field == "upgradeType"
    failed = {
        **body,
        "upgradeType": "upgrade_only",
        "upgradeErrors": [{"code": 2, "description": "not active"}],
    }
    parsed = parse_document(json.dumps(failed), "u.json")
    assert parsed.transitions[0].state.value == "failed"
    assert parsed.transitions[0].errors == ("2: not active",)
