"""The difference between a stored subscription and Partner Center, as operations (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from contractsync.adapters.partner_center import PartnerCenterSubscription
from contractsync.domain.enums import BillingCycle, OfferKind, SubscriptionStatus, Term
from contractsync.service.partner_center_import import plan_operations

PC = PartnerCenterSubscription(
    source="f.json",
    record="document",
    id="s1",
    customer_tenant_id=None,
    offer_id="CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9",
    offer_name="Office 365 E5",
    friendly_name="E5",
    kind=OfferKind.NCE,
    quantity=10,
    status=SubscriptionStatus.ACTIVE,
    partner_center_status="active",
    term=Term.P1Y,
    billing_cycle=BillingCycle.MONTHLY,
    start_date=date(2024, 1, 15),
    end_date=date(2025, 1, 14),
    auto_renew=True,
)


def local(**changes: Any) -> dict[str, Any]:
    stored = {
        "id": "s1",
        "status": "active",
        "kind": "nce",
        "offer_id": "CFQ7TTC0LF8S:0001",  # the SKU only: matches on productId:skuId
        "quantity": 10,
        "term": "P1Y",
        "billing_cycle": "monthly",
        "end_date": "2025-01-14",
        "auto_renew": True,
        "friendly_name": "E5",
    }
    return {**stored, **changes}


def ops(stored: dict[str, Any], pc: PartnerCenterSubscription) -> list[dict[str, Any]]:
    plan = plan_operations(stored, pc)
    assert not plan.problems, plan.problems
    return plan.operations


def test_no_difference_no_operation() -> None:
    assert ops(local(), PC) == []


def test_quantity_and_suspension_in_that_order() -> None:
    pc = replace(PC, quantity=12, status=SubscriptionStatus.SUSPENDED)
    assert ops(local(), pc) == [{"type": "update_quantity", "quantity": 12}, {"type": "suspend"}]


def test_reactivation_comes_first() -> None:
    pc = replace(PC, quantity=8)
    assert ops(local(status="suspended"), pc) == [
        {"type": "reactivate"},
        {"type": "update_quantity", "quantity": 8},
    ]


def test_attributes_autotask_cannot_hold_still_become_operations() -> None:
    pc = replace(PC, billing_cycle=BillingCycle.ANNUAL, auto_renew=False, friendly_name="Sales E5")
    assert ops(local(), pc) == [
        {"type": "update_billing_cycle", "billing_cycle": "annual"},
        {"type": "update_auto_renew", "auto_renew": False},
        {"type": "update_friendly_name", "friendly_name": "Sales E5"},
    ]


def test_absent_values_are_not_differences() -> None:
    assert ops(local(friendly_name="mine"), replace(PC, friendly_name=None, auto_renew=None)) == []


def test_a_later_term_end_is_a_renewal_carrying_what_changed() -> None:
    pc = replace(PC, end_date=date(2026, 1, 14), quantity=14, billing_cycle=BillingCycle.ANNUAL)
    assert ops(local(), pc) == [
        {"type": "renew", "end_date": "2026-01-14", "quantity": 14, "billing_cycle": "annual"}
    ]


def test_a_renewal_into_another_offer_and_term() -> None:
    pc = replace(PC, end_date=date(2026, 1, 14), offer_id="CFQ7TTC0LFLZ:0002:X", term=Term.P1M)
    assert ops(local(), pc) == [
        {"type": "renew", "end_date": "2026-01-14", "term": "P1M", "offer_id": "CFQ7TTC0LFLZ:0002:X"}
    ]


@pytest.mark.parametrize(
    ("status", "operation"), [(SubscriptionStatus.CANCELED, "cancel"), (SubscriptionStatus.EXPIRED, "expire")]
)
def test_an_ending_is_the_only_operation(status: SubscriptionStatus, operation: str) -> None:
    pc = replace(PC, status=status, quantity=0, end_date=date(2026, 1, 14))
    assert ops(local(), pc) == [{"type": operation}]


@pytest.mark.parametrize(
    ("stored", "pc", "words"),
    [
        (local(status="canceled"), PC, "cannot come back"),
        (local(term="P1M"), PC, "no operation changes a term"),
        (local(offer_id="CFQ7TTC0LFLZ:0002"), PC, "no operation changes an offer"),
        (local(end_date="2025-06-30"), PC, "no operation shortens a term"),
        (local(kind="legacy"), PC, "kind is legacy locally"),
    ],
)
def test_differences_no_operation_expresses_are_problems(
    stored: dict[str, Any], pc: PartnerCenterSubscription, words: str
) -> None:
    plan = plan_operations(stored, pc)
    assert any(words in problem for problem in plan.problems), plan.problems


def test_already_ended_locally_and_in_partner_center() -> None:
    plan = plan_operations(
        local(status="expired"),
        replace(PC, status=SubscriptionStatus.CANCELED, partner_center_status="deleted"),
    )
    assert (plan.operations, plan.problems) == ([], [])
    assert plan.notes == ["already expired locally (deleted in Partner Center)"]


def test_open_ended_subscriptions_never_renew() -> None:
    pc = replace(PC, kind=OfferKind.AZURE_PLAN, end_date=None, term=Term.P1M)
    stored = local(kind="azure_plan", term="P1M", end_date="9999-12-30")
    assert ops(stored, pc) == []
    plan = plan_operations(local(kind="azure_plan", term="P1M"), pc)
    assert (plan.operations, plan.problems) == ([], [])
    assert "not changed" in plan.notes[0]
