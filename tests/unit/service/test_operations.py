"""Subscription operations on the in-memory unit of work: the real façade, group commit and batch,
no database (`tests/integration/service/test_use_cases_agree.py` holds memory and SQL alike)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contractsync.adapters.memory.subscription_books import LedgerLine
from contractsync.domain.enums import ContractPeriodType
from contractsync.domain.model import Contract
from contractsync.domain.operations import OperationCommand
from contractsync.domain.schedule import HeldAdjustment
from contractsync.ports.directory import SubscriptionMapping
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Conflict, Invalid, NotFound
from tests.unit.service.conftest import R2, Service


@pytest.fixture
def mapped(directory: Service) -> Service:
    """s1 mapped to contract service 1001 of contract 100 on k1; Autotask holds 10 units at 12.00."""
    data = directory.data
    data.contracts[("k1", 100)] = Contract(
        100, date(2026, 1, 1), date(2027, 12, 31), ContractPeriodType.MONTHLY
    )
    data.subscription_mappings["s1"] = SubscriptionMapping("s1", "k1", 100, 1001, 7, date(2026, 1, 20))
    data.mapped_at["s1"] = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    held = HeldAdjustment(date(2026, 1, 20), 10, Decimal("12.00"), Decimal("10.00"))
    data.ledger[("k1", 1001)] = [LedgerLine(None, held)]
    return directory


def test_a_quantity_change_plans_one_adjustment_in_the_outbox(mapped: Service) -> None:
    [record] = mapped.facade.apply_operation(
        ADMIN, "s1", OperationCommand.build("update_quantity", quantity=12)
    )
    assert record["status"] == "pending" and record["effective_date"] == "2026-11-25"
    [row] = record["adjustments"]
    assert (row["target_units"], row["unit_change"], row["status"]) == (12, 2, "pending")
    assert mapped.data.subscriptions["s1"].value.quantity == 12
    assert mapped.data.subscriptions["s1"].version == 2 and len(mapped.data.history) == 1
    assert mapped.facade.get_subscription(ADMIN, "s1")["sync_state"] == "pending"


def test_a_second_change_supersedes_the_unsent_row(mapped: Service) -> None:
    [first] = mapped.facade.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    [second] = mapped.facade.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 15})
    assert mapped.facade.get_operation(ADMIN, first["id"])["status"] == "superseded"
    assert [a["target_units"] for a in second["adjustments"]] == [15]


def test_a_preview_stores_nothing(mapped: Service) -> None:
    before = mapped.data.subscriptions["s1"]
    [record] = mapped.facade.apply_operation(
        ADMIN, "s1", OperationCommand.build("update_quantity", quantity=20, preview=True)
    )
    assert record["preview"] is True and record["adjustments"][0]["target_units"] == 20
    assert (
        mapped.data.subscriptions["s1"] == before and not mapped.data.records and not mapped.data.adjustments
    )


def test_an_idempotency_key_answers_the_first_time_and_refuses_another_operation(mapped: Service) -> None:
    keyed = OperationCommand.build("update_quantity", quantity=12, idempotency_key="pc-1")
    first = mapped.facade.apply_operation(ADMIN, "s1", keyed)
    assert mapped.facade.apply_operation(ADMIN, "s1", keyed) == first
    assert len(mapped.data.records) == 1
    other = OperationCommand.build("update_quantity", quantity=13, idempotency_key="pc-1")
    with pytest.raises(Conflict, match="already used for a different operation"):
        mapped.facade.apply_operation(ADMIN, "s1", other)


def test_refusals_change_nothing(mapped: Service) -> None:
    with pytest.raises(Invalid, match="quantity must be 0 or more"):
        mapped.facade.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": -1})
    with pytest.raises(Invalid, match="effective_date must be between"):
        mapped.facade.apply_operation(ADMIN, "s1", {"type": "cancel", "effective_date": "1999-12-31"})
    with pytest.raises(NotFound):
        mapped.facade.apply_operation(R2, "s1", {"type": "cancel"})
    assert mapped.data.subscriptions["s1"].version == 1 and not mapped.data.records


def test_an_atomic_batch_is_refused_whole(mapped: Service) -> None:
    body = {"atomic": True, "operations": [
        {"subscription_id": "s1", "type": "update_quantity", "quantity": 12},
        {"subscription_id": "s1", "type": "update_quantity", "quantity": -3},
    ]}  # fmt: skip
    with pytest.raises(Invalid, match=r"operations\[1\]: quantity must be 0 or more"):
        mapped.facade.apply_operations(ADMIN, body)
    assert mapped.data.subscriptions["s1"].value.quantity == 10 and not mapped.data.adjustments


def test_a_margin_change_and_a_sweep(mapped: Service) -> None:
    records = mapped.facade.set_provider_margin(ADMIN, "c1", "microsoft", {"margin_percent": "20"})
    assert [r["type"] for r in records] == ["UpdateCustomerMarginsOnConnection"]
    assert mapped.data.customers["c1"].provider_margins == {"microsoft": Decimal("20")}
    answer = mapped.facade.sweep(ADMIN, {"date": "2027-01-20"})
    assert answer["subscriptions"] == 1 and answer["operations"][0]["subscription_id"] == "s1"
    assert mapped.facade.sweep(ADMIN, {"date": "2027-01-20"})["subscriptions"] == 0
