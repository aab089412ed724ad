"""Scheduled reconciliation run by the worker's tick, stored runs, the drift alert (acknowledged,
resolved), honest sync_state — against the Autotask sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from contractsync.bootstrap import reconcile_tick
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import Invalid, NotFound
from tests.integration.service.sandbox_world import SandboxWorld, sandbox_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[SandboxWorld]:
    yield from sandbox_world(database_url, tmp_path)


def test_the_worker_reconciles_daily_by_default_and_on_its_schedule(world: SandboxWorld) -> None:
    tick = reconcile_tick(world.service, world.clock)
    world.new_subscription(10)
    world.deliver()
    assert tick() == ["at1"]  # never reconciled: due at once
    runs = world.service.reconciliation_runs(ADMIN, "at1")
    assert runs["schedule"] == {"every_hours": 24, "enabled": True, "currency": "USD"}
    [run] = runs["items"]
    assert (run["trigger"], run["services_checked"], run["reads"]) == ("scheduled", 1, 1)
    assert run["differences"] == {"drift": 0, "pending": 0, "inexact": 0, "failed": 0}
    world.clock.advance(23 * 3600)
    assert tick() == []  # not due before a day has passed
    world.clock.advance(3600)
    assert tick() == ["at1"]
    world.service.set_reconciliation_schedule(
        ADMIN, {"connection_id": "at1", "every_hours": 0, "currency": "EUR"}
    )
    world.clock.advance(10 * 86_400)
    assert tick() == []  # off
    world.service.set_reconciliation_schedule(ADMIN, {"connection_id": "at1", "every_hours": 2})
    assert tick() == []  # the worker looks once a minute
    world.clock.advance(60)
    assert tick() == ["at1"]
    latest = world.service.reconciliation_runs(ADMIN, "at1")["items"][0]
    assert latest["currency"] == "EUR" and len(world.service.reconciliation_runs(ADMIN, "at1")["items"]) == 3
    with pytest.raises(Invalid):
        world.service.set_reconciliation_schedule(ADMIN, {"connection_id": "at1", "every_hours": -1})
    with pytest.raises(NotFound):
        world.service.reconciliation_runs(Actor("someone-else"), "at1")


def test_drift_raises_an_alert_marks_the_subscription_and_a_fix_resolves_both(world: SandboxWorld) -> None:
    tick = reconcile_tick(world.service, world.clock)
    subscription_id = world.new_subscription(10)
    world.deliver()
    service = world.services[subscription_id]
    assert world.service.autotask_today(ADMIN, subscription_id) == {
        "date": "2024-05-20", "units": 10, "unit_price": "12.0000"
    }  # fmt: skip
    assert world.edit_by_hand(service, date(2024, 5, 21), 1, Decimal("12.0000"))  # tomorrow: not today
    world.clock.advance(86_400)
    assert world.service.autotask_today(ADMIN, subscription_id)["units"] == 11  # the page shows 11 beside 10
    assert world.edit_by_hand(service, date(2024, 6, 10), 5, Decimal("12.0000"))
    world.clock.advance(1)
    assert tick() == ["at1"]
    [run] = world.service.reconciliation_runs(ADMIN, "at1")["items"]
    assert run["differences"]["drift"] == 2 and run["drifting_subscriptions"] == [subscription_id]
    assert Decimal(run["money_impact"]) < 0  # Autotask bills 5 units more than planned
    assert world.service.get_subscription(ADMIN, subscription_id)["sync_state"] == "out_of_sync"
    assert world.service.list_subscriptions(ADMIN, sync_state="out_of_sync")["total"] == 1
    [alert] = [a for a in world.service.list_alerts(ADMIN) if a["kind"] == "reconciliation_drift"]
    assert (
        alert["id"]
        and alert["raised_at"]
        and alert["resolved_at"] is None
        and alert["acknowledged_at"] is None
    )
    acknowledged = world.service.acknowledge_alert(ADMIN, alert["id"])
    assert acknowledged["acknowledged_at"] is not None
    assert [a["id"] for a in world.service.list_alerts(ADMIN, "acknowledged")] == [alert["id"]]

    fixed = world.service.reconciliation(ADMIN, "at1", fix=True)
    assert [q["subscription_id"] for q in fixed["queued"]] == [subscription_id]
    assert world.service.get_subscription(ADMIN, subscription_id)["sync_state"] == "pending"
    world.clock.advance(1)
    world.deliver()
    assert world.service.get_subscription(ADMIN, subscription_id)["sync_state"] == "synced"
    world.service.reconciliation(ADMIN, "at1")
    assert all(a["kind"] != "reconciliation_drift" for a in world.service.list_alerts(ADMIN))
    [resolved] = [
        a for a in world.service.list_alerts(ADMIN, "resolved") if a["kind"] == "reconciliation_drift"
    ]
    assert resolved["id"] == alert["id"] and resolved["resolved_at"] is not None


def test_a_refused_operation_shows_failed_and_its_alert_links_to_the_retry(world: SandboxWorld) -> None:
    subscription_id = world.new_subscription(10)
    world.deliver()
    # Outside the contract (it ends 2026-12-31): refused, nothing planned.
    body = {"type": "update_quantity", "quantity": 30, "effective_date": "2028-02-01"}
    [record] = world.service.apply_operation(ADMIN, subscription_id, body)
    assert record["status"] == "failed"
    view = world.service.get_subscription(ADMIN, subscription_id)
    assert view["sync_state"] == "failed" and view["quantity"] == 30
    assert world.service.list_subscriptions(ADMIN, sync_state="failed")["total"] == 1
    assert world.service.list_subscriptions(ADMIN, sync_state="synced")["total"] == 0
    report = world.service.reconciliation(ADMIN, "at1")
    [failed] = [d for d in report["differences"] if d["kind"] == "failed"]
    assert failed["record_id"] == record["id"] and "outside the contract" in failed["reason"]
    assert failed["expected_units"] == 30 and failed["autotask_units"] == 10
    # A later change that Autotask accepts ends the refusal.
    world.service.apply_operation(ADMIN, subscription_id, {"type": "update_quantity", "quantity": 12})
    world.deliver()
    assert world.service.get_subscription(ADMIN, subscription_id)["sync_state"] == "synced"


def test_a_run_that_cannot_read_autotask_is_stored_and_tried_again_an_hour_later(world: SandboxWorld) -> None:
    from contractsync.ports.psa import ErrorKind, PsaError

    class Unreachable:
        def service_units_of(self, ids: list[int]) -> object:
            raise PsaError(ErrorKind.TIMEOUT_BEFORE_SEND, "connection refused")

    world.new_subscription(5)
    world.deliver()
    working = world.service.context.connector_for
    world.service.context.connector_for = lambda row: Unreachable()
    tick = reconcile_tick(world.service, world.clock)
    assert tick() == []
    [run] = world.service.reconciliation_runs(ADMIN, "at1")["items"]
    assert run["error"] == "Autotask could not be read: connection refused" and run["reads"] == 0
    [alert] = [a for a in world.service.list_alerts(ADMIN) if a["kind"] == "reconciliation_failed"]
    assert alert["connection_id"] == "at1" and "connection refused" in alert["message"]
    world.clock.advance(30 * 60)
    assert tick() == []  # not hammering Autotask
    world.service.context.connector_for = working
    world.clock.advance(31 * 60)
    assert tick() == ["at1"]
    assert world.service.reconciliation_runs(ADMIN, "at1")["items"][0]["error"] is None
    assert all(a["kind"] != "reconciliation_failed" for a in world.service.list_alerts(ADMIN))
