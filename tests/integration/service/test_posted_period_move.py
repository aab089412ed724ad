"""SPEC §2 at delivery: an adjustment Autotask refuses because its period is posted moves by itself
to the first unposted contract period, on the same audit record, with no manual retry.

The worker here cannot read posted periods before sending (`PortOnly`), so every move is learned
from Autotask's refusal, the fallback; tests/integration/autotask/test_posted_periods_read.py
holds the read before sending."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from contractsync.adapters.db import posted_move
from contractsync.adapters.db.posted_periods import PostedPeriod
from contractsync.adapters.db.tables import contracts
from contractsync.domain.periods import Period
from contractsync.service.actor import ADMIN
from tests.integration.service.conftest import World, map_s1

JUNE = "Autotask has posted the period 2024-06-01–2024-06-30"


@pytest.fixture(autouse=True)
def refusals_teach(world: World) -> None:
    world.learn_posted_periods_from_refusals()


def back_dated_change(world: World, quantity: int, day: str) -> int:
    world.clock.set(datetime(2024, 7, 10, 9, tzinfo=UTC))
    body = {"type": "update_quantity", "quantity": quantity, "effective_date": day}
    [record] = world.service.apply_operation(ADMIN, "s1", body)
    assert record["adjustments"][0]["effective_date"] == day  # contractsync did not know
    return int(record["id"])


def test_a_back_dated_change_into_a_period_posted_meanwhile_lands_in_the_first_unposted_one(
    world: World,
) -> None:
    map_s1(world)
    world.deliver()  # 10 units from 20 May
    world.autotask.contract(100, date(2024, 1, 1), date(2026, 12, 31), posted_through=date(2024, 6, 30))
    record_id = back_dated_change(world, 14, "2024-06-10")
    world.deliver()
    # Exactly one adjustment was created for the change, on 1 July, carrying the difference.
    assert [(a[1], a[2]) for a in world.autotask.adjustments(1000)] == [
        (date(2024, 5, 20), 10),
        (date(2024, 7, 1), 4),
    ]
    assert world.autotask.units_on(1000, date(2024, 6, 30)) == 10
    assert world.autotask.units_on(1000, date(2024, 7, 1)) == 14
    record = world.service.get_operation(ADMIN, record_id)
    assert record["status"] == "succeeded"
    assert record["reason"] == f"moved from 2024-06-10 to 2024-07-01: {JUNE}"
    assert record["notes"] == [record["reason"]]
    assert [(a["effective_date"], a["status"]) for a in record["adjustments"]] == [
        ("2024-06-10", "superseded"),
        ("2024-07-01", "sent"),
    ]
    assert world.service.list_operations(ADMIN, status="failed")["total"] == 0
    assert world.service.get_subscription(ADMIN, "s1")["sync_state"] == "synced"
    assert all(a["kind"] != "out_of_sync" for a in world.service.list_alerts(ADMIN))
    world.deliver()  # nothing is sent twice
    assert len(world.autotask.adjustments(1000)) == 2


def test_it_moves_again_while_autotask_teaches_a_later_posted_period(world: World) -> None:
    map_s1(world)
    world.deliver()
    world.autotask.contract(100, date(2024, 1, 1), date(2026, 12, 31), posted_through=date(2024, 6, 30))
    record_id = back_dated_change(world, 12, "2024-05-25")  # May and June are posted; we know neither
    world.deliver()
    assert world.autotask.rejections()["posted_period"] == 2
    assert world.autotask.adjustments(1000)[-1][1:3] == (date(2024, 7, 1), 2)
    record = world.service.get_operation(ADMIN, record_id)
    assert record["status"] == "succeeded"
    assert record["notes"] == [
        "moved from 2024-05-25 to 2024-06-01: Autotask has posted the period 2024-05-01–2024-05-31",
        f"moved from 2024-06-01 to 2024-07-01: {JUNE}",
    ]


def test_no_loop_when_no_unposted_period_is_left_in_the_contract(world: World) -> None:
    # The contract ends with June and Autotask posted it all: the moves stop at its end.
    world.autotask.contract(100, date(2024, 1, 1), date(2024, 6, 30))
    with world.service.context.sessions.begin() as session:
        session.execute(
            update(contracts).where(contracts.c.contract_id == 100).values(end_date=date(2024, 6, 30))
        )
    map_s1(world)
    world.deliver()
    world.autotask.contract(100, date(2024, 1, 1), date(2024, 6, 30), posted_through=date(2024, 6, 30))
    record_id = back_dated_change(world, 12, "2024-05-25")
    world.deliver()
    world.deliver()
    assert world.autotask.rejections()["posted_period"] == 2
    record = world.service.get_operation(ADMIN, record_id)
    assert record["status"] == "failed" and "posted" in record["reason"]
    assert world.autotask.units_on(1000, date(2024, 6, 30)) == 10


def test_a_second_rejection_for_the_same_period_fails_the_record(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should contractsync's idea of the contract's periods disagree with Autotask's, the re-plan
    # would land in the refused period again: it fails as before instead of sending it again.
    def learns_nothing(session: object, connection_id: str, contract_id: int, refused: date) -> PostedPeriod:
        return PostedPeriod(Period(date(2024, 6, 1), date(2024, 6, 30)), date(2024, 6, 30))

    monkeypatch.setattr(posted_move, "learn_posted_period", learns_nothing)
    map_s1(world)
    world.deliver()
    world.autotask.contract(100, date(2024, 1, 1), date(2026, 12, 31), posted_through=date(2024, 6, 30))
    record_id = back_dated_change(world, 14, "2024-06-10")
    world.deliver()
    world.deliver()
    assert world.autotask.rejections()["posted_period"] == 1
    record = world.service.get_operation(ADMIN, record_id)
    assert record["status"] == "failed"
    assert [a["status"] for a in record["adjustments"]] == ["failed"]
    assert world.autotask.units_on(1000, date(2024, 7, 1)) == 10


def test_workers_and_operations_racing_on_postgresql_keep_autotask_exact(world: World) -> None:
    if world.service.context.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("several workers need PostgreSQL (SQLite runs one worker)")
    map_s1(world)
    world.deliver()
    world.autotask.contract(100, date(2024, 1, 1), date(2026, 12, 31), posted_through=date(2024, 6, 30))
    world.clock.set(datetime(2024, 7, 10, 9, tzinfo=UTC))
    stop, errors = threading.Event(), []

    def deliver_until_stopped() -> None:
        while not stop.is_set():
            try:
                world.deliver()
            except Exception as error:
                errors.append(error)

    workers = [threading.Thread(target=deliver_until_stopped) for _ in range(3)]
    for thread in workers:
        thread.start()
    try:
        for quantity, day in ((12, "2024-06-05"), (13, "2024-06-10"), (14, "2024-06-15")):
            body = {"type": "update_quantity", "quantity": quantity, "effective_date": day}
            world.service.apply_operation(ADMIN, "s1", body)
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in workers:
            thread.join()
    world.deliver()
    assert errors == []
    assert world.autotask.units_on(1000, date(2024, 6, 30)) == 10
    # Changes planned after June was learned land on 1 July or, that day taken, the next free one.
    assert world.autotask.units_on(1000, date(2024, 7, 5)) == 14
    records = world.service.list_operations(ADMIN)["items"]
    sent = [a for record in records for a in record["adjustments"] if a["status"] == "sent"]
    assert len(sent) == len(world.autotask.adjustments(1000))  # nothing was sent twice
    assert world.service.list_operations(ADMIN, status="failed")["total"] == 0
    assert world.service.get_subscription(ADMIN, "s1")["sync_state"] == "synced"
    assert world.service.list_operations(ADMIN, status="pending")["total"] == 0
