"""Reconciliation schedules and stored runs on the in-memory unit of work."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from contractsync.domain.reconciliation import Difference
from contractsync.service import reconcile_runs
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Invalid, NotFound
from contractsync.service.reconciliation_queries import due_connections
from tests.unit.service.conftest import NOW, R1, R2, Service

REPORT = {"services_checked": 3, "reads": 2, "money_impact": "12.50"}


def test_a_schedule_is_daily_until_set_and_validated(directory: Service) -> None:
    facade = directory.facade
    assert facade.reconciliation_runs(R1, "k1")["schedule"] == {
        "every_hours": 24,
        "enabled": True,
        "currency": "USD",
    }
    answer = facade.set_reconciliation_schedule(
        R1, {"connection_id": "k1", "every_hours": 0, "currency": "EUR"}
    )
    assert answer == {
        "connection_id": "k1",
        "schedule": {"every_hours": 0, "enabled": False, "currency": "EUR"},
    }
    with pytest.raises(Invalid, match="every_hours"):
        facade.set_reconciliation_schedule(R1, {"connection_id": "k1", "every_hours": True})
    with pytest.raises(NotFound):
        facade.set_reconciliation_schedule(R2, {"connection_id": "k1", "every_hours": 1})
    assert facade.reconciliation_runs(ADMIN, "k1")["schedule"]["currency"] == "EUR"


def test_stored_runs_are_listed_newest_first_and_drift_raises_an_alert(directory: Service) -> None:
    ctx = directory.facade.context
    records = SimpleNamespace(connection_id="k1", currency="USD")
    reconcile_runs.store_failure(ctx, records, 3, NOW, "scheduled", "timeout")
    [alert] = directory.facade.list_alerts(ADMIN)
    assert (alert["kind"], alert["connection_id"]) == ("reconciliation_failed", "k1")
    assert alert["message"] == (
        "reconciliation of connection k1 could not read Autotask: timeout; nothing is checked until a "
        "run succeeds (tried again in an hour)"
    )
    drift: list[Difference] = []
    run_id = reconcile_runs.store(ctx, records, REPORT, drift, NOW, "on_demand")
    [latest, failed] = directory.facade.reconciliation_runs(ADMIN, "k1")["items"]
    assert latest["id"] == run_id and latest["money_impact"] == "12.5000" and latest["error"] is None
    assert failed["error"] == "Autotask could not be read: timeout" and failed["reads"] == 0
    assert directory.data.runs[run_id].money_impact == Decimal("12.50")
    assert directory.facade.list_alerts(ADMIN) == []  # the run that read Autotask resolved it
    [resolved] = directory.facade.list_alerts(ADMIN, "resolved")
    assert resolved["id"] == alert["id"]


def test_a_connection_is_due_by_its_schedule_and_an_hour_after_a_failed_run(directory: Service) -> None:
    ctx = directory.facade.context
    records = SimpleNamespace(connection_id="k1", currency="USD")
    assert due_connections(ctx, NOW) == ["k1"]
    reconcile_runs.store(ctx, records, REPORT, [], NOW, "scheduled")
    assert due_connections(ctx, NOW + timedelta(hours=23)) == []
    reconcile_runs.store_failure(ctx, records, 0, NOW + timedelta(hours=24), "scheduled", "down")
    assert due_connections(ctx, NOW + timedelta(hours=24, minutes=30)) == []
    assert due_connections(ctx, NOW + timedelta(hours=25)) == ["k1"]
