"""The console's dashboard on SQLite and PostgreSQL, through the façade: what Autotask bills (from
the ledger of what was sent), unmapped subscriptions apart, failed records, the last delivery and
reconciliation, the stored currency, a reseller's own rows, and the subscription export."""

from __future__ import annotations

from sqlalchemy import update

from contractsync.adapters.db.tables import connection_operations
from contractsync.service.actor import ADMIN, Actor
from tests.integration.service.conftest import World, map_s1


def _unmapped_s2(world: World) -> None:
    world.service.create_subscription(ADMIN, {
        "id": "s2", "customer_id": "c-r1", "offer_id": "CFQ7TTC0LF8S:0002", "offer_name": "Microsoft 365 E3",
        "kind": "nce", "quantity": 3, "term": "P1Y", "billing_cycle": "annual", "start_date": "2024-01-15",
        "end_date": "2025-01-14", "auto_renew": True, "list_price": "120.00",
    })  # fmt: skip


def test_the_dashboard_adds_up_what_autotask_bills(world: World) -> None:
    map_s1(world)
    _unmapped_s2(world)
    world.deliver()
    world.service.set_reconciliation_schedule(ADMIN, {"connection_id": "at-r1", "currency": "EUR"})
    run = world.service.reconciliation(ADMIN, "at-r1")

    board = world.service.dashboard(ADMIN)

    assert board["today"] == "2024-05-20"
    [at1, at2] = board["connections"]
    assert (at1["id"], at1["currency"], at2["id"], at2["currency"]) == ("at-r1", "EUR", "at-r2", None)
    assert (at1["mrr"], at1["cost"], at1["profit"], at1["markup_percent"]) == (
        "120.0000", "100.0000", "20.0000", "20.00",
    )  # fmt: skip
    assert (at1["seats"], at1["subscriptions"], at1["failed_records"]) == (10, {"synced": 1}, 0)
    assert at1["last_delivery"] == "2024-05-20T09:00:00Z"
    assert at1["last_reconciliation"]["id"] == run["run_id"]
    assert at1["last_reconciliation"]["currency"] == "EUR"
    assert (at2["mrr"], at2["last_delivery"], at2["last_reconciliation"]) == ("0.0000", None, None)
    unmapped = board["unmapped"]
    # 3 seats at 120.00 + 20 % a year: 36.0000 a month, not billed in Autotask
    assert (unmapped["unmapped_mrr"], unmapped["seats"], unmapped["subscriptions"]) == (
        "36.0000", 3, {"unmapped": 1},
    )  # fmt: skip
    customer = next(c for c in board["customers"] if c["id"] == "c-r1")
    assert (customer["connection_id"], customer["currency"], customer["mrr"]) == ("at-r1", "EUR", "120.0000")
    assert customer["unmapped_mrr"] == "36.0000"
    assert customer["subscriptions"] == {"synced": 1, "unmapped": 1}
    trend = board["trend"]["at-r1"]
    assert [p["date"] for p in trend][-2:] == ["2024-05-01", "2024-05-20"]
    assert (trend[-2]["mrr"], trend[-1]["mrr"], trend[-1]["seats"]) == ("0.0000", "120.0000", 10)
    assert world.service.connection_currencies(ADMIN) == {"at-r1": "EUR"}


def test_failed_records_count_for_their_connection_and_customer(world: World) -> None:
    map_s1(world)
    world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    with world.service.context.sessions.begin() as session:  # both records failed
        session.execute(update(connection_operations).values(status="failed"))
    board = world.service.dashboard(ADMIN)
    assert board["connections"][0]["failed_records"] == 2
    assert next(c for c in board["customers"] if c["id"] == "c-r1")["failed_records"] == 2


def test_a_reseller_sees_its_own_rows_and_exports_its_subscriptions(world: World) -> None:
    map_s1(world)
    _unmapped_s2(world)
    world.deliver()
    board = world.service.dashboard(Actor("r2"))
    assert [c["id"] for c in board["connections"]] == ["at-r2"]
    assert [c["id"] for c in board["customers"]] == ["c-r2"]
    assert board["unmapped"]["subscriptions"] == {}
    assert [s["id"] for s in world.service.all_subscriptions(Actor("r1"))] == ["s1", "s2"]
    assert world.service.all_subscriptions(Actor("r2")) == []
    assert [s["id"] for s in world.service.all_subscriptions(ADMIN, "c-r2")] == []
