"""The reconciliation fix (X1) on the in-memory unit of work: the real façade, a PSA stub, no
database. A contract service whose units Autotask changed gets one correction through the outbox,
the ledger rebuilt from what Autotask shows and the worker told to read the units first."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from contractsync.adapters.memory.subscription_books import LedgerLine
from contractsync.domain.schedule import HeldAdjustment
from contractsync.ports.psa import ServiceUnitsPeriod
from contractsync.service.actor import ADMIN
from tests.unit.service.autotask_stub import StubAutotask
from tests.unit.service.conftest import Service

START, END = date(2026, 11, 25), date(2027, 12, 31)


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """Monthly contract periods from `start` (the service's first period starts with it)."""
    periods, first = [], start
    while first <= end:
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        periods.append((first, min(after - timedelta(days=1), end)))
        first = after
    return periods


@pytest.fixture
def sent(directory: Service) -> tuple[Service, StubAutotask]:
    """s1 mapped to contract service 1001 from 2026-11-25 with 10 units, sent: the worker's outcome
    (the row sent, the ledger holding it, the record succeeded) written as the worker writes it."""
    autotask = StubAutotask()
    directory.facade.context.connector_for = autotask
    record = directory.facade.map_subscription(
        ADMIN, {"subscription_id": "s1", "connection_id": "k1", "contract_id": 100, "service_id": 7,
                "contract_service_id": 1001},
    )  # fmt: skip
    data = directory.data
    [row] = [data.adjustments[a["id"]] for a in record["adjustments"]]
    data.adjustments[row.id] = dataclasses.replace(row, status="sent", sent_unit_change=10, attempts=1)
    held = HeldAdjustment(row.effective_date, 10, row.unit_price, row.unit_cost)
    data.ledger[("k1", 1001)] = [LedgerLine(row.id, held, 9001)]
    data.records[record["id"]] = dataclasses.replace(data.records[record["id"]], status="succeeded")
    autotask.units = [
        ServiceUnitsPeriod(1001, first, last, 10, row.unit_price, row.unit_cost, False)
        for first, last in _months(START, END)
    ]
    return directory, autotask


def test_nothing_to_fix_when_autotask_holds_what_was_sent(sent: tuple[Service, StubAutotask]) -> None:
    service, _ = sent
    report = service.facade.reconciliation(ADMIN, "k1", fix=True)
    assert report["services_checked"] == 1 and report["differences"] == []
    assert (report["fixed"], report["queued"], report["not_queued"]) == (0, [], [])


def test_drift_gets_one_correction_through_the_outbox(sent: tuple[Service, StubAutotask]) -> None:
    service, autotask = sent
    # Someone set 8 units in Autotask from December on.
    autotask.units = [
        dataclasses.replace(p, units=8) if p.start_date >= date(2026, 12, 1) else p for p in autotask.units
    ]
    report = service.facade.reconciliation(ADMIN, "k1", fix=True)
    [drift] = report["differences"]
    assert (drift["kind"], drift["date"], drift["expected_units"], drift["autotask_units"]) == (
        "drift", "2026-12-01", 10, 8,
    )  # fmt: skip
    assert report["fixed"] == 1 and report["not_queued"] == []
    [queued] = report["queued"]
    assert (queued["contract_service_id"], queued["from"]) == (1001, "2026-12-01")
    [record] = report["operations"]
    assert (record["id"], record["type"], record["status"]) == (
        queued["record_id"], "ReconcileContractServiceOnConnection", "pending",
    )  # fmt: skip
    # Autotask holds an adjustment on 2026-12-01 already: the correction goes out the day after.
    [row] = record["adjustments"]
    assert (row["effective_date"], row["target_units"], row["unit_change"]) == ("2026-12-02", 10, 2)
    data = service.data
    ledger = [(line.held.effective_date, line.held.unit_change) for line in data.ledger[("k1", 1001)]]
    assert ledger == [(START, 10), (date(2026, 12, 1), -2)]  # rebuilt from what Autotask shows
    assert ("k1", 1001) in data.units_unknown  # the worker reads the units again before sending
    # Reconciling again while the correction is on its way: pending, nothing corrected twice.
    again = service.facade.reconciliation(ADMIN, "k1", fix=True)
    assert "drift" not in [d["kind"] for d in again["differences"]]
    assert (again["fixed"], again["queued"]) == (0, [])
    assert [a.id for a in data.adjustments.values() if a.status == "pending"] == [row["id"]]


def test_a_service_with_rows_on_their_way_is_left_alone(sent: tuple[Service, StubAutotask]) -> None:
    service, autotask = sent
    autotask.units = [
        dataclasses.replace(p, units=8) if p.start_date >= date(2026, 12, 1) else p for p in autotask.units
    ]
    data = service.data
    [row] = data.adjustments.values()  # the mapping's, sent; one more of the service still to go
    data.adjustments[2] = dataclasses.replace(row, id=2, status="pending", effective_date=date(2027, 6, 1))
    report = service.facade.reconciliation(ADMIN, "k1", fix=True)
    assert report["fixed"] == 0 and report["queued"] == []
    [left] = report["not_queued"]
    assert (left["contract_service_id"], left["from"]) == (1001, "2026-12-01")
    assert left["reason"].startswith("adjustments of this contract service are still on their way")
    assert data.ledger[("k1", 1001)] == [
        LedgerLine(row.id, HeldAdjustment(START, 10, row.unit_price, row.unit_cost), 9001)
    ]
    assert not data.units_unknown
