"""Adjustments nobody delivers (no worker running, or every worker stuck) raise an X5 alert: the
billing manager learns that Autotask does not have them, instead of reading "pending" for days.
Real database (SQLite and PostgreSQL), the real service, the Autotask sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update

from contractsync.adapters.db.pause_table import connection_pauses
from contractsync.adapters.db.tables import adjustments
from contractsync.bootstrap import alerts_tick
from contractsync.service.actor import ADMIN, Actor
from tests.integration.service.sandbox_world import SandboxWorld, sandbox_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[SandboxWorld]:
    yield from sandbox_world(database_url, tmp_path)


def stalled(world: SandboxWorld, actor: Actor = ADMIN, state: str = "open") -> list[dict[str, Any]]:
    return world.alerts("deliveries_stalled", actor, state)


def test_adjustments_left_undelivered_raise_an_alert_until_a_worker_delivers_them(
    world: SandboxWorld,
) -> None:
    first, second = world.new_subscription(5), world.new_subscription(7)
    world.deliver()
    world.service.apply_operation(ADMIN, first, {"type": "update_quantity", "quantity": 8})
    world.clock.advance(60)
    world.service.apply_operation(ADMIN, second, {"type": "update_quantity", "quantity": 9})

    world.clock.advance(9 * 60)
    assert stalled(world) == []  # 10 minutes past due is a stall; a worker takes them in seconds
    world.clock.advance(60)
    [alert] = stalled(world)
    assert alert["connection_id"] == "at1" and alert["subscription_id"] is None
    assert alert["message"].startswith("connection at1: 1 adjustment has waited more than 10 minutes")
    world.clock.advance(60)
    [alert] = stalled(world)  # the same alert, now for both
    assert alert["message"].startswith("connection at1: 2 adjustments have waited more than 10 minutes")
    assert "Is a worker running (`contractsync worker`)?" in alert["message"]
    assert stalled(world, Actor("r1")) == [alert] and stalled(world, Actor("r2")) == []

    world.deliver()
    assert stalled(world) == []
    [resolved] = stalled(world, state="resolved")
    assert resolved["id"] == alert["id"]


def test_the_worker_stores_the_alert_when_nobody_lists_alerts(world: SandboxWorld) -> None:
    subscription = world.new_subscription(5)
    world.deliver()
    world.service.apply_operation(ADMIN, subscription, {"type": "update_quantity", "quantity": 8})
    tick = alerts_tick(world.service, world.clock)

    def stored() -> list[str]:  # what is stored, read without bringing anything up to date
        with world.service.context.units(commit=False) as uow:
            return [a.kind for a in uow.alerts.listed(None, "open")]

    tick()
    world.clock.advance(11 * 60)
    assert stored() == []
    tick()  # a worker's scheduled work, once a minute
    assert stored() == ["deliveries_stalled"]
    world.deliver()
    world.clock.advance(30)
    tick()  # not a minute since the last: nothing yet
    assert stored() == ["deliveries_stalled"]
    world.clock.advance(30)
    tick()
    assert stored() == []


def test_a_call_left_sending_by_a_dead_worker_counts_and_a_paused_connection_does_not(
    world: SandboxWorld,
) -> None:
    """What the SQL reads beside pending rows: a row `sending` under a lease that ran out more than
    10 minutes ago (its worker died and none took it over), and not a paused connection's rows
    (Autotask refused its credentials: that has an alert of its own)."""
    subscription = world.new_subscription(5)
    world.deliver()
    world.service.apply_operation(ADMIN, subscription, {"type": "update_quantity", "quantity": 8})
    engine = world.service.context.sessions.kw["bind"]
    lease_ended = world.clock.now() + timedelta(seconds=30)
    with engine.begin() as db:  # claimed by a worker that then died: its lease ends in 30 s
        db.execute(
            update(adjustments)
            .where(adjustments.c.status == "pending")
            .values(status="sending", lease_owner="dead-worker", lease_expires_at=lease_ended)
        )
    world.clock.advance(10 * 60 + 30)
    assert stalled(world) == []  # due 10.5 minutes ago, but its lease ended only 10 minutes ago
    world.clock.advance(1)
    [alert] = stalled(world)
    assert alert["message"].startswith("connection at1: 1 adjustment has waited more than 10 minutes")

    with engine.begin() as db:
        db.execute(insert(connection_pauses).values(
            connection_id="at1", reason="credentials refused", since=world.clock.now(),
            next_probe_at=world.clock.now(), probe_interval_seconds=300,
        ))  # fmt: skip
    assert stalled(world) == []
