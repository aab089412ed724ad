"""The façade's commands (`BatchCommand`, `CreateSubscription`, `SetProviderMargin`): read once,
the same from typed values (the API's validated body) and from API.md JSON."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contractsync.domain.batch_command import BatchCommand, BatchEntry, InvalidBatch
from contractsync.domain.bounds import MAX_BATCH_OPERATIONS
from contractsync.domain.commands import CreateSubscription, SetProviderMargin, SetReconciliationSchedule
from contractsync.domain.enums import BillingCycle, OfferKind, Term
from contractsync.domain.model import Promotion
from contractsync.domain.operations import InvalidInput, OperationCommand

SUBSCRIPTION = {
    "id": "s1", "customer_id": "c1", "offer_id": "o1", "offer_name": "Microsoft 365 E3", "kind": "nce",
    "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2026-01-01",
    "end_date": "2026-12-31", "auto_renew": True, "list_price": "36.00",
    "promotion": {"id": "p1", "discount_percent": "5"},
}  # fmt: skip


def test_a_batch_reads_each_entry_as_a_single_operation_would_be_read() -> None:
    batch = BatchCommand.from_json({"atomic": True, "operations": [
        {"subscription_id": "s1", "type": "update_quantity", "quantity": 12},
        {"subscription_id": "s2", "type": "update_quantity"},
    ]})  # fmt: skip
    assert batch.atomic and not batch.preview
    first, second = batch.entries
    assert first == BatchEntry("s1", OperationCommand.from_json({"type": "update_quantity", "quantity": 12}))
    # A malformed entry is kept with its reason: an unknown subscription answers it `refused`.
    assert second.command is None and second.type == "update_quantity"
    assert "quantity is required" in str(second.malformed)
    same = BatchCommand.read(
        [{"subscription_id": "s1", "type": "update_quantity", "quantity": 12},
         {"subscription_id": "s2", "type": "update_quantity"}], atomic=True
    )  # fmt: skip
    assert same.entries[0] == first and same.atomic


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        ([], "the body must be a JSON object", None),
        ({"operations": [], "extra": 1}, "extra is not a known field", "extra"),
        ({"operations": [{}], "preview": "yes"}, "preview must be true or false", None),
        ({"operations": [{}], "atomic": 1}, "atomic must be true or false", "atomic"),
        ({"operations": []}, f"operations must be a list of 1 to {MAX_BATCH_OPERATIONS}", "operations"),
        ({"operations": "s1"}, "operations must be a list", "operations"),
        ({"operations": [3]}, r"operations\[0\] must be a JSON object", "operations[0]"),
        (
            {"operations": [{"type": "cancel"}]},
            "subscription_id is required",
            "operations[0].subscription_id",
        ),
        (
            {"operations": [{"subscription_id": "s\x00"}]},
            "control characters",
            "operations[0].subscription_id",
        ),
        (
            {"operations": [{"subscription_id": "s1", "type": "cancel", "preview": True}]},
            "preview applies to the whole batch",
            "operations[0].preview",
        ),
    ],
)
def test_a_batch_that_cannot_be_read_names_the_field(body: object, message: str, field: str | None) -> None:
    with pytest.raises(InvalidBatch, match=message) as refused:
        BatchCommand.from_json(body)
    assert refused.value.field == field


def test_a_batch_holds_at_most_the_bound() -> None:
    entry = {"subscription_id": "s1", "type": "cancel"}
    assert len(BatchCommand.read([entry] * MAX_BATCH_OPERATIONS).entries) == MAX_BATCH_OPERATIONS
    with pytest.raises(InvalidBatch, match="1 to 1000"):
        BatchCommand.read([entry] * (MAX_BATCH_OPERATIONS + 1))


def test_a_new_subscription_is_the_same_from_json_and_from_typed_values() -> None:
    from_json = CreateSubscription.build(**SUBSCRIPTION)
    typed = CreateSubscription.build(
        **{
            **SUBSCRIPTION,
            "kind": OfferKind.NCE, "term": Term.P1Y, "billing_cycle": BillingCycle.MONTHLY,
            "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31), "list_price": Decimal("36.00"),
            "promotion": Promotion("p1", Decimal("5")),
        }
    )  # fmt: skip
    assert from_json == typed
    assert from_json.list_price == Decimal("36.00") and from_json.promotion == Promotion("p1", Decimal("5"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": -1}, "quantity must be between 0 and 1000000"),
        ({"quantity": "5"}, "quantity must be an integer"),
        ({"list_price": "1000001"}, "list_price must be between 0 and 1000000"),
        ({"offer_name": "E3\n"}, "offer_name must not contain control characters"),
        ({"end_date": "2025-12-31"}, "end_date must not be before start_date"),
        ({"kind": "csp"}, "kind must be one of"),
        ({"auto_renew": "yes"}, "auto_renew must be true or false"),
        ({"promotion": {"id": "p1"}}, "promotion must be an object with id and discount_percent"),
        (
            {"promotion": {"id": "p1", "discount_percent": "101"}},
            "promotion.discount_percent must be between",
        ),
        ({"price_margin_percent": "-101"}, "price_margin_percent must be between -100 and 1000"),
    ],
)
def test_a_new_subscription_is_refused_naming_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CreateSubscription.build(**{**SUBSCRIPTION, **change})


def test_a_provider_margin_is_read_with_the_bounds_of_every_margin() -> None:
    command = SetProviderMargin.build("12.5", effective_date="2026-03-01", preview=True)
    assert command == SetProviderMargin(Decimal("12.5"), date(2026, 3, 1), True)
    assert SetProviderMargin.build(Decimal("12.5")) == SetProviderMargin(Decimal("12.5"))
    with pytest.raises(InvalidInput, match="margin_percent must be between -100 and 1000"):
        SetProviderMargin.build("1001")
    with pytest.raises(InvalidInput, match="preview must be true or false"):
        SetProviderMargin.build("1", preview="no")
    with pytest.raises(InvalidInput, match="effective_date must be a date"):
        SetProviderMargin.build("1", effective_date="March")


def test_a_schedule_keeps_what_is_not_given_and_reads_what_is() -> None:
    assert SetReconciliationSchedule.build(connection_id="at1") == SetReconciliationSchedule("at1")
    assert SetReconciliationSchedule.build(
        connection_id="at1", every_hours=0, currency="EUR"
    ) == SetReconciliationSchedule("at1", 0, "EUR")
    assert SetReconciliationSchedule.build(connection_id="at1", every_hours=8760).every_hours == 8760


@pytest.mark.parametrize("every_hours", [-1, 8761, True, 1.5, "2", None])
def test_a_schedule_refuses_hours_that_are_not_0_to_8760(every_hours: object) -> None:
    with pytest.raises(InvalidInput, match=r"^every_hours must be a whole number of hours from 0"):
        SetReconciliationSchedule.build(connection_id="at1", every_hours=every_hours)


@pytest.mark.parametrize("currency", ["eur", "EU", "EURO", "E1R", 978, None])
def test_a_schedule_refuses_a_currency_that_is_not_three_capitals(currency: object) -> None:
    with pytest.raises(InvalidInput, match=r"^currency must be an ISO 4217 code"):
        SetReconciliationSchedule.build(connection_id="at1", currency=currency)
