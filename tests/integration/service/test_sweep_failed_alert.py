"""A daily sweep that fails in the worker is not retried by itself (it would fail the same way):
renewals and expiries of that day wait for a person, so the failure raises an X5 alert, and a
sweep of that date that succeeds resolves it. Real database (SQLite and PostgreSQL), the real
service and the worker's scheduled work, the Autotask sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contractsync.bootstrap import scheduled_work
from contractsync.service.actor import ADMIN, Actor
from tests.integration.service.sandbox_world import SandboxWorld, sandbox_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[SandboxWorld]:
    yield from sandbox_world(database_url, tmp_path)


def test_a_scheduled_sweep_that_fails_is_an_alert_until_that_date_is_swept(
    world: SandboxWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.new_subscription(5)
    sweep = world.service.sweep

    def failing(actor: Actor, command: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(world.service, "sweep", failing)
    scheduled_work(world.service, world.clock)()  # the worker's tick: today's sweep of at1 fails
    [alert] = world.alerts("sweep_failed")
    assert alert["connection_id"] == "at1"
    assert alert["message"] == (
        "the daily sweep of connection at1 for 2024-05-20 failed: the database went away; renewals and "
        "expiries of that day are not applied until it runs again (`contractsync sweep --date "
        "2024-05-20`, or POST /v1/sweeps)"
    )
    assert (
        world.alerts("sweep_failed", Actor("r1")) == [alert]
        and world.alerts("sweep_failed", Actor("r2")) == []
    )

    monkeypatch.setattr(world.service, "sweep", sweep)
    world.clock.advance(3600)
    scheduled_work(world.service, world.clock)()  # the day's run is taken: not repeated by itself
    assert [a["id"] for a in world.alerts("sweep_failed")] == [alert["id"]]
    world.service.sweep(ADMIN, {"date": "2024-05-19"})  # another date: not this one
    assert [a["id"] for a in world.alerts("sweep_failed")] == [alert["id"]]
    world.service.sweep(ADMIN, {"date": "2024-05-20", "preview": True})  # a preview changes nothing
    assert [a["id"] for a in world.alerts("sweep_failed")] == [alert["id"]]
    world.service.sweep(ADMIN, {"date": "2024-05-20"})  # what the alert says to do
    assert world.alerts("sweep_failed") == []
    [resolved] = world.alerts("sweep_failed", state="resolved")
    assert resolved["id"] == alert["id"]
