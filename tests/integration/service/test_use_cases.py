"""Use cases through the façade on SQLite and PostgreSQL: refusals, preview, retry, reconciliation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from contractsync.adapters.autotask.adjustments import AdjustmentRequest
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import Conflict, Forbidden, Invalid, NotFound
from tests.integration.service.conftest import World, map_s1


def test_quantity_change_is_delivered_once_and_the_subscription_is_synced(world: World) -> None:
    map_s1(world)
    [record] = world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    assert record["status"] == "pending"
    assert world.service.get_subscription(ADMIN, "s1")["sync_state"] == "pending"
    world.deliver()
    world.deliver()  # a second run finds nothing to send
    # The mapping and the change were planned together: one adjustment carries both (R1a).
    assert [(a[1], a[2]) for a in world.autotask.adjustments(1000)] == [(date(2024, 5, 20), 12)]
    view = world.service.get_subscription(ADMIN, "s1")
    assert view["sync_state"] == "synced" and view["quantity"] == 12 and view["unit_price"] == "12.0000"
    assert world.service.get_operation(ADMIN, record["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "update_quantity", "quantity": -1},
        {"type": "update_quantity", "quantity": True},
        {"type": "update_quantity", "quantity": 2.5},
        {"type": "update_price_margin", "margin_percent": "lots"},
        {"type": "update_billing_cycle", "billing_cycle": "weekly"},
        {"type": "upgrade", "target_subscription_id": "nope", "quantity": 1},
        {"type": "teleport"},
    ],
)
def test_a_refused_operation_changes_nothing(world: World, body: dict[str, object]) -> None:
    map_s1(world)
    before = world.service.get_subscription(ADMIN, "s1")
    log_before = world.service.list_operations(ADMIN)["total"]
    with pytest.raises((Invalid, NotFound)):
        world.service.apply_operation(ADMIN, "s1", body)
    assert world.service.get_subscription(ADMIN, "s1") == before
    assert world.service.list_operations(ADMIN)["total"] == log_before


def test_operations_on_a_cancelled_subscription_are_refused(world: World) -> None:
    map_s1(world)
    world.service.apply_operation(ADMIN, "s1", {"type": "cancel"})
    with pytest.raises(Invalid, match="canceled"):
        world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 3})


def test_preview_shows_the_adjustment_and_stores_and_sends_nothing(world: World) -> None:
    map_s1(world)
    world.deliver()
    world.clock.advance(86_400)
    before = world.service.get_subscription(ADMIN, "s1")
    [preview] = world.service.apply_operation(
        ADMIN, "s1", {"type": "update_quantity", "quantity": 15, "preview": True}
    )
    assert preview["preview"] is True
    assert [(a["effective_date"], a["unit_change"]) for a in preview["adjustments"]] == [("2024-05-21", 5)]
    world.deliver()
    assert world.service.get_subscription(ADMIN, "s1") == before
    assert world.autotask.units_on(1000, date(2024, 6, 1)) == 10


def test_a_reseller_token_sees_only_its_own_reseller(world: World) -> None:
    map_s1(world)
    other = Actor("r2")
    for call in (
        lambda: world.service.get_subscription(other, "s1"),
        lambda: world.service.apply_operation(other, "s1", {"type": "cancel"}),
        lambda: world.service.approve_billing(other, "r1", {"approved_through": "2024-05-31"}),
        lambda: world.service.unmap_subscription(other, "s1"),
    ):
        with pytest.raises(NotFound):
            call()
    assert world.service.list_operations(other)["total"] == 0
    assert [s["id"] for s in world.service.list_subscriptions(other)["items"]] == []
    with pytest.raises(Forbidden):
        world.service.create_reseller(other, {"id": "r3", "name": "Three"})
    assert world.service.get_subscription(Actor("r1"), "s1")["id"] == "s1"


def test_connection_secret_is_never_answered(world: World) -> None:
    assert all(
        "secret" not in c and "do-not-leak" not in str(c) for c in world.service.list_connections(ADMIN)
    )


def test_failed_delivery_can_be_retried_after_the_cause_is_fixed(world: World) -> None:
    world.autotask.contract(100, date(2024, 1, 1), date(2024, 4, 30))  # Autotask's contract ended
    map_s1(world)
    world.deliver()
    [failed] = world.service.list_operations(ADMIN, status="failed")["items"]
    assert "contract" in (failed["adjustments"][0]["error"] or "")
    assert failed["can_retry"] is True
    world.autotask.contract(100, date(2024, 1, 1), date(2026, 12, 31))  # someone extended it
    retried = world.service.retry_operation(ADMIN, failed["id"])
    assert retried["id"] == failed["id"] and retried["status"] == "pending"
    world.deliver()
    assert world.service.get_operation(ADMIN, failed["id"])["status"] == "succeeded"
    assert world.autotask.units_on(1000, date(2024, 5, 20)) == 10
    with pytest.raises(Conflict):
        world.service.retry_operation(ADMIN, failed["id"])


def test_a_posted_period_rejection_moves_the_adjustment_past_it_without_a_retry(world: World) -> None:
    # Autotask posted May before contractsync knew: the adjustment dated 20 May is refused and
    # moves by itself to 1 June (SPEC §2); the same record carries it and succeeds.
    world.autotask.contract(100, date(2024, 1, 1), date(2026, 12, 31), posted_through=date(2024, 5, 31))
    map_s1(world)
    world.deliver()
    [record] = world.service.list_operations(ADMIN)["items"]  # no manual retry, no second record
    assert record["status"] == "succeeded"
    assert (
        record["reason"]
        == "moved from 2024-05-20 to 2024-06-01: Autotask has posted the period 2024-05-01–2024-05-31"
    )
    assert [(a["effective_date"], a["status"]) for a in record["adjustments"]] == [
        ("2024-05-20", "superseded"),
        ("2024-06-01", "sent"),
    ]
    assert "posted" in (record["adjustments"][0]["error"] or "")
    assert world.autotask.units_on(1000, date(2024, 5, 31)) == 0
    assert world.autotask.units_on(1000, date(2024, 6, 1)) == 10
    # What contractsync learned holds for later operations too: nothing lands in May any more.
    world.clock.advance(86_400)
    body = {"type": "update_quantity", "quantity": 11, "effective_date": "2024-05-25"}
    [later] = world.service.apply_operation(ADMIN, "s1", body)
    assert later["adjustments"][0]["effective_date"] == "2024-06-02"


def test_reconciliation_reports_a_manual_edit_with_its_money_impact_and_repairs_it(world: World) -> None:
    map_s1(world)
    world.deliver()
    # Someone adds 3 units by hand in Autotask from 1 July.
    world.autotask.connector.create_adjustment(
        AdjustmentRequest(100, 1000, date(2024, 7, 1), 3, Decimal("12"), Decimal("10"))
    )
    report = world.service.reconciliation(ADMIN, "at-r1")
    assert report["differences"] and report["differences"][0]["date"] == "2024-07-01"
    assert (
        report["differences"][0]["expected_units"] == 10 and report["differences"][0]["autotask_units"] == 13
    )
    assert report["differences"][0]["kind"] == "drift"
    # From 1 July (after today, 20 May) through the end of July, then -36 a month from August on.
    assert report["differences"][0]["money_impact"] == "-36.0000"
    assert report["differences"][0]["run_rate"] == "-36.0000"
    assert world.autotask.units_on(1000, date(2024, 8, 1)) == 13  # a report changes nothing
    fixed = world.service.reconciliation(ADMIN, "at-r1", fix=True)
    assert fixed["fixed"] == 1
    world.deliver()
    assert world.autotask.units_on(1000, date(2024, 8, 1)) == 10
    # 1 July already has the manual adjustment, so the repair is dated 2 July: only that one day
    # stays different, and the record says so.
    after = world.service.reconciliation(ADMIN, "at-r1")
    [left] = after["differences"]
    assert (left["date"], left["period_end"]) == ("2024-07-01", "2024-07-01")
    # Not drift any more: Autotask holds what was planned; that day could not be made exact.
    assert left["kind"] == "inexact" and left["exact_from"] == "2024-07-02"
    assert left["record_id"] == fixed["queued"][0]["record_id"]
    assert after["totals"]["drift"]["count"] == 0
    [repair] = fixed["operations"]
    assert repair["type"] == "ReconcileContractServiceOnConnection"
    assert any("2024-07-01" in note for note in repair["notes"])


def test_concurrent_operations_on_one_subscription_serialise(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    map_s1(world)
    quantities = list(range(20, 40))
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda q: world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": q}), quantities
        ))  # fmt: skip
    assert all(len(a) == 1 for a in answers)
    view = world.service.get_subscription(ADMIN, "s1")
    assert view["version"] == 1 + len(quantities)
    world.deliver()
    # Whatever order they ran in, Autotask ends at the quantity of the last one applied.
    assert world.autotask.units_on(1000, date(2024, 5, 20)) == view["quantity"]
    assert len(world.autotask.adjustments(1000)) == 1


def test_a_connection_above_80_percent_of_its_request_budget_raises_an_alert(world: World) -> None:
    class Budgeted:
        def __call__(self, row: object) -> object:
            return world.autotask

        def budget_used(self) -> dict[str, float]:
            return {"at-r1": 0.85, "at-r2": 0.2}

    world.service.context.connector_for = Budgeted()
    kinds = [(a["kind"], a["connection_id"]) for a in world.service.list_alerts(ADMIN)]
    assert ("api_budget", "at-r1") in kinds and ("api_budget", "at-r2") not in kinds
    assert all(a["kind"] != "api_budget" for a in world.service.list_alerts(Actor("r2")))


def test_alerts_name_failed_deliveries_and_unmapped_subscriptions_of_mapped_customers(world: World) -> None:
    world.service.map_customer(ADMIN, {"customer_id": "c-r1", "connection_id": "at-r1", "company_id": 5})
    assert ("unmapped_subscription", "s1") in [
        (a["kind"], a["subscription_id"]) for a in world.service.list_alerts(ADMIN)
    ]
    world.autotask.contract(100, date(2024, 1, 1), date(2024, 4, 30))  # Autotask's contract ended
    map_s1(world)
    world.deliver()  # rejected: outside the contract
    kinds = [(a["kind"], a["subscription_id"]) for a in world.service.list_alerts(ADMIN)]
    assert ("out_of_sync", "s1") in kinds and ("unmapped_subscription", "s1") not in kinds
    assert world.service.list_alerts(Actor("r2")) == []


def test_a_token_near_its_expiry_is_an_alert_until_it_is_revoked(world: World) -> None:
    expires = world.clock.now() + timedelta(days=3)
    world.service.create_token("r1", expires_at=expires, name="psa-sync")
    [alert] = [a for a in world.service.list_alerts(ADMIN) if a["kind"] == "token_expiring"]
    assert alert["message"].startswith("API token psa-sync expires at ")
    # it names neither a connection nor a subscription: the answer says whose it is
    assert (alert["reseller_id"], alert["connection_id"], alert["subscription_id"]) == ("r1", None, None)
    assert [a["id"] for a in world.service.list_alerts(Actor("r1")) if a["kind"] == "token_expiring"] == [
        alert["id"]
    ]
    assert all(a["kind"] != "token_expiring" for a in world.service.list_alerts(Actor("r2")))
    [token] = [t for t in world.service.list_tokens(ADMIN) if t["name"] == "psa-sync"]
    world.service.revoke_token(ADMIN, token["id"])
    assert all(a["kind"] != "token_expiring" for a in world.service.list_alerts(ADMIN))
