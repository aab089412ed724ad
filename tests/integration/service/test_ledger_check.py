"""The ledger self-check (issue 15, item 5): contractsync's own view of Autotask must keep adding
up with what its last verification read; when its bookkeeping goes wrong, /metrics and an X5
alert say so without anyone calling Autotask."""

from __future__ import annotations

import random

from sqlalchemy import update

from contractsync.adapters.db import ledger_check
from contractsync.adapters.db.metrics_collector import DatabaseCollector
from contractsync.adapters.db.tables import contract_service_state, ledger
from contractsync.bootstrap import delivery_store
from contractsync.delivery.worker import Worker
from contractsync.service.actor import ADMIN
from tests.integration.service.conftest import World, map_s1
from tests.sandbox_autotask import UNITS


def _drift(world: World) -> list[ledger_check.Drift]:
    with world.service.context.sessions() as session:
        return ledger_check.drift(session)


def _gauge(world: World) -> float:
    collector = DatabaseCollector(world.service.context.sessions, lambda: {})
    metric = next(m for m in collector.collect() if m.name == "contractsync_ledger_drift_services")
    return float(metric.samples[0].value)


def _units_unknown(world: World) -> None:
    """As after a timeout: the worker must read Autotask before it sends anything else."""
    with world.service.context.sessions.begin() as session:
        session.execute(update(contract_service_state).values(units_unknown=True))


def test_the_ledger_adds_up_after_verifications_and_sends_and_drift_is_raised(world: World) -> None:
    map_s1(world)
    world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    world.deliver()
    _units_unknown(world)
    world.service.apply_operation(
        ADMIN, "s1", {"type": "update_quantity", "quantity": 15, "effective_date": "2024-06-03"}
    )
    world.deliver()  # verifies (one read kept for the self-check), then sends
    assert world.autotask.requests()[UNITS] >= 1
    world.service.apply_operation(
        ADMIN, "s1", {"type": "update_quantity", "quantity": 9, "effective_date": "2024-06-10"}
    )
    world.deliver()  # sent after the verification: the check counts it
    assert _drift(world) == []
    assert _gauge(world) == 0

    # A bookkeeping error of contractsync's own: the ledger thinks Autotask got 3 more units.
    with world.service.context.sessions.begin() as session:
        first = session.execute(ledger.select().order_by(ledger.c.effective_date.desc()).limit(1)).one()
        session.execute(
            update(ledger)
            .where(ledger.c.effective_date == first.effective_date)
            .values(unit_change=first.unit_change + 3)
        )
    (found,) = _drift(world)
    assert found.contract_service_id == 1000 and found.ledger_units == found.expected_units + 3
    assert _gauge(world) == 1

    worker = Worker(
        delivery_store(world.service.context.sessions),
        lambda _c: world.autotask.connector,
        world.clock,
        rng=random.Random(1),
    )
    assert len(worker.self_check()) == 1
    assert len(worker.self_check()) == 1  # the same drift again: still one alert
    alerts = [a for a in world.service.list_alerts(ADMIN) if a["kind"] == "ledger_drift"]
    assert len(alerts) == 1 and "contract service 1000" in alerts[0]["message"]
