"""F1 retry on the in-memory unit of work: the real façade, no database."""

from __future__ import annotations

import dataclasses

import pytest

from contractsync.service.actor import ADMIN
from contractsync.service.errors import Conflict, NotFound
from tests.unit.service.conftest import R2, Service
from tests.unit.service.test_audit import _adjustment, logged  # noqa: F401  (the fixture)


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
