"""The audit log, manual actions and the F1 retry on the in-memory unit of work."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from contractsync.ports.audit_records import AdjustmentLine, AuditRecord, ManualAction
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Conflict, Invalid, NotFound
from tests.unit.service.conftest import CONNECTION, NOW, R1, R2, Service

QUANTITY = "UpdateSubscriptionQuantityOnConnection"


def _record(record_id: int, status: str = "succeeded", connection_id: str = "k1") -> AuditRecord:
    return AuditRecord(
        id=record_id,
        connection_id=connection_id,
        subscription_id="s1",
        customer_id="c1",
        operation_key=f"key-{record_id}",
        type=QUANTITY,
        status=status,
        reason=None,
        effective_date=date(2026, 11, 25),
        created_at=NOW,
        updated_at=NOW,
        details={"notes": ["one note"]},
    )


def _adjustment(adjustment_id: int, record_id: int, status: str = "sent") -> AdjustmentLine:
    return AdjustmentLine(
        id=adjustment_id,
        operation_id=record_id,
        connection_id="k1",
        subscription_id="s1",
        contract_id=100,
        contract_service_id=7,
        effective_date=date(2026, 11, 25),
        target_units=11,
        planned_unit_change=1,
        sent_unit_change=1 if status == "sent" else None,
        unit_price=Decimal("15"),
        unit_cost=Decimal("12.5"),
        status=status,
        attempts=1,
        error="Autotask said no" if status == "failed" else None,
        due_at=NOW,
        sent_at=NOW if status == "sent" else None,
    )


@pytest.fixture
def logged(directory: Service) -> Service:
    """Records 1 (sent) and 2 (failed) on r1's connection k1; record 3 on r2's connection k2."""
    directory.facade.create_connection(ADMIN, {**CONNECTION, "id": "k2", "reseller_id": "r2"})
    data = directory.data
    data.records = {1: _record(1), 2: _record(2, "failed"), 3: _record(3, connection_id="k2")}
    data.adjustments = {10: _adjustment(10, 1), 11: _adjustment(11, 2, "failed")}
    data.manual_actions = {
        5: ManualAction(5, "k1", 2, "s1", 7, date(2026, 11, 25), 1, "Add 1 unit by hand", "open", NOW),
        6: ManualAction(6, "k2", 3, "s9", None, date(2026, 11, 25), -1, "Remove 1 unit", "open", NOW),
        7: ManualAction(7, "k1", 1, "s1", 7, date(2026, 11, 25), 1, "Done already", "done", NOW),
    }
    return directory


def test_the_log_is_newest_first_with_adjustments_and_the_retry_flag(logged: Service) -> None:
    page = logged.facade.list_operations(ADMIN)
    assert [r["id"] for r in page["items"]] == [3, 2, 1] and page["total"] == 3
    failed = page["items"][1]
    assert failed["can_retry"] is True and failed["notes"] == ["one note"]
    assert failed["adjustments"][0] | {"error": None} == {
        "id": 11,
        "contract_id": 100,
        "contract_service_id": 7,
        "effective_date": "2026-11-25",
        "target_units": 11,
        "unit_change": 1,
        "adjusted_unit_price": "15.0000",
        "adjusted_unit_cost": "12.5000",
        "status": "failed",
        "attempts": 1,
        "error": None,
        "due_at": "2026-11-25T14:00:00Z",
        "sent_at": None,
    }
    assert page["items"][2]["can_retry"] is False


def test_the_log_filters_and_pages(logged: Service) -> None:
    failed = logged.facade.list_operations(ADMIN, status="failed")
    assert [r["id"] for r in failed["items"]] == [2]
    second = logged.facade.list_operations(ADMIN, page=2, page_size=2)
    assert [r["id"] for r in second["items"]] == [1] and second["total"] == 3
    with pytest.raises(Invalid, match="type must be"):
        logged.facade.list_operations(ADMIN, type="Nonsense")


def test_a_reseller_sees_only_the_records_and_actions_of_its_connections(logged: Service) -> None:
    assert [r["id"] for r in logged.facade.list_operations(R1)["items"]] == [2, 1]
    assert [r["id"] for r in logged.facade.list_operations(R2)["items"]] == [3]
    assert logged.facade.get_operation(R1, 1)["id"] == 1
    with pytest.raises(NotFound):
        logged.facade.get_operation(R2, 1)
    with pytest.raises(NotFound):
        logged.facade.get_operation(ADMIN, 2**70)  # beyond any stored id
    assert [a["id"] for a in logged.facade.list_manual_actions(ADMIN)] == [6, 5]
    assert [a["instruction"] for a in logged.facade.list_manual_actions(R1)] == ["Add 1 unit by hand"]


def test_open_manual_actions_are_counted_on_the_subscription(logged: Service) -> None:
    assert logged.facade.get_subscription(R1, "s1")["open_manual_actions"] == 1


# --- F1 retry ----------------------------------------------------------------------------------


def test_a_failed_record_goes_back_to_pending_with_its_failed_rows(logged: Service) -> None:
    logged.data.adjustments[11] = dataclasses.replace(logged.data.adjustments[11], error="HTTP 500")
    answer = logged.facade.retry_operation(ADMIN, 2)
    assert answer["status"] == "pending" and answer["reason"] is None
    row = logged.data.adjustments[11]
    assert (row.status, row.attempts, row.error) == ("pending", 0, None)
    assert logged.data.adjustments[10].status == "sent"  # record 1's row is not touched


def test_a_later_sent_row_of_the_same_service_refuses_the_retry_and_changes_nothing(
    logged: Service,
) -> None:
    logged.data.adjustments[12] = _adjustment(12, 1, "sent")
    with pytest.raises(Conflict, match="adjustment 12 for contract service 7 was sent after this one failed"):
        logged.facade.retry_operation(ADMIN, 2)
    assert logged.data.adjustments[11].status == "failed" and logged.data.records[2].status == "failed"


def test_only_failed_records_with_rows_can_be_retried(logged: Service) -> None:
    with pytest.raises(Conflict, match="operation 1 is succeeded; only failed operations"):
        logged.facade.retry_operation(ADMIN, 1)
    logged.data.adjustments = {k: a for k, a in logged.data.adjustments.items() if a.operation_id != 2}
    with pytest.raises(Conflict, match="operation 2 has no adjustment to retry"):
        logged.facade.retry_operation(ADMIN, 2)
    with pytest.raises(NotFound):
        logged.facade.retry_operation(R2, 2)  # another reseller's record does not exist for r2
