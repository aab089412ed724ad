"""Autotask refusing a connection's credentials pauses the connection instead of failing rows."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db import pauses as pause
from contractsync.adapters.db.metrics_collector import DatabaseCollector
from contractsync.adapters.db.pause_table import connection_pauses
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import adjustments, alerts, connection_operations
from contractsync.adapters.db.unit_of_work import SqlUnitsOfWork
from contractsync.adapters.secrets import SecretBox
from contractsync.bootstrap import delivery_store
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.context import ServiceContext
from contractsync.service.directory_queries import list_connections
from contractsync.service.errors import Invalid, NotFound
from contractsync.service.list_alerts import list_alerts
from contractsync.service.update_credentials import update_credentials
from tests.fakes.outbox_data import CONNECTION, Row, contract_of, enqueue_operation, seed_connection
from tests.sandbox_autotask import ADJUSTMENTS, SandboxAutotask

D = date(2025, 3, 3)
ROWS = [Row(s, D + timedelta(days=i), 10 + s + i) for s in range(1, 6) for i in range(2)]


def enqueue(factory: sessionmaker[Session], clock: ManualClock, rows: list[Row], connection: str) -> None:
    with transaction(factory) as session:
        enqueue_operation(session, rows, clock.now(), connection_id=connection)


def rows_of(factory: sessionmaker[Session], connection: str = CONNECTION) -> list[Any]:
    with transaction(factory) as session:
        return list(
            session.execute(
                select(adjustments.c.status, adjustments.c.attempts, adjustments.c.error_kind).where(
                    adjustments.c.connection_id == connection
                )
            )
        )


def paused_alerts(factory: sessionmaker[Session]) -> list[Any]:
    with transaction(factory) as session:
        return list(session.execute(select(alerts).where(alerts.c.kind == pause.ALERT_KIND)))


def service(factory: sessionmaker[Session], clock: ManualClock) -> ServiceContext:
    secrets = SecretBox(SecretBox.new_key().encode())
    return ServiceContext(SqlUnitsOfWork(factory), clock, secrets, lambda row: None, OutboundPolicy())


def shown(factory: sessionmaker[Session], clock: ManualClock, actor: Actor = ADMIN) -> dict[str, Any]:
    """What GET /v1/connections answers about each connection's pause."""
    return {c["id"]: c["paused"] for c in list_connections(service(factory, clock), actor)}


def paused_gauge(factory: sessionmaker[Session]) -> dict[str, float]:
    families = list(DatabaseCollector(factory, dict).collect())
    [family] = [
        f for f in families if isinstance(f, GaugeMetricFamily) and f.name == "contractsync_connection_paused"
    ]
    return {s.labels["connection"]: s.value for s in family.samples}


def test_refused_credentials_pause_the_connection_until_a_probe_succeeds(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, worker: Worker
) -> None:
    enqueue(factory, clock, ROWS, CONNECTION)
    autotask.refuse_credentials()
    paused_at = clock.now()
    worker.run_once()

    # Every row waits, none failed, no attempt counted; the audit records are not failed.
    assert {(r.status, r.attempts, r.error_kind) for r in rows_of(factory)} <= {
        ("pending", 0, "auth"),
        ("pending", 0, None),
    }
    with transaction(factory) as session:
        assert set(session.execute(select(connection_operations.c.status)).scalars()) == {"pending"}
    # Concurrent deliveries already under way may each have hit the 401 once, no more.
    refused = autotask.rejections()["auth"]
    assert 1 <= refused <= worker.config.concurrency
    assert ADJUSTMENTS not in autotask.requests()

    [alert] = paused_alerts(factory)
    assert alert.connection_id == CONNECTION and alert.resolved_at is None
    assert f"Autotask refused the credentials of connection {CONNECTION}" in alert.message
    live = list_alerts(service(factory, clock), ADMIN)
    assert [a["kind"] for a in live if a["connection_id"] == CONNECTION] == [pause.ALERT_KIND]
    probe_at = paused_at + timedelta(seconds=300)
    assert shown(factory, clock)[CONNECTION] == {
        "reason": "POST /atservicesrest/v1.0/ContractServiceAdjustments: credentials refused (HTTP 401)",
        "since": paused_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "next_probe_at": probe_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert shown(factory, clock, Actor("r1"))[CONNECTION] is not None
    assert paused_gauge(factory) == {CONNECTION: 1}

    # Until the probe time nothing is claimed and Autotask hears nothing.
    worker.run_once()
    clock.advance(299)
    stats = worker.run_once()
    assert stats.services == 0
    assert autotask.rejections()["auth"] == refused

    # A refused probe is one call; the next probe waits twice as long.
    clock.advance(1)
    worker.run_once()
    assert autotask.rejections()["auth"] == refused + 1
    assert shown(factory, clock)[CONNECTION]["next_probe_at"] == (
        clock.now() + timedelta(seconds=600)
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(599)
    worker.run_once()
    assert autotask.rejections()["auth"] == refused + 1
    assert len(paused_alerts(factory)) == 1

    # Credentials fixed: the next probe succeeds, the pause ends, everything goes out once.
    autotask.refuse_credentials(False)
    clock.advance(1)
    worker.run_once()
    assert {r.status for r in rows_of(factory)} == {"sent"}
    assert {r.attempts for r in rows_of(factory)} == {0}
    assert autotask.requests()[ADJUSTMENTS] == len(ROWS)
    assert len(autotask.adjustments()) == len(ROWS)
    for row in ROWS:
        assert autotask.units_on(row.service, row.day) == row.target
    assert shown(factory, clock)[CONNECTION] is None
    [alert] = paused_alerts(factory)
    assert alert.resolved_at == clock.now()
    assert not [a for a in list_alerts(service(factory, clock), ADMIN) if a["kind"] == pause.ALERT_KIND]
    assert paused_gauge(factory) == {CONNECTION: 0}


def test_another_connection_keeps_delivering(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock
) -> None:
    with transaction(factory) as session:
        seed_connection(session, clock.now(), "at2")
    with SandboxAutotask() as other:  # the second connection's Autotask database
        other.contract_services({row.service: contract_of(row.service) for row in ROWS})
        connectors = {CONNECTION: autotask.connector, "at2": other.connector}
        worker = Worker(
            delivery_store(factory),
            connectors.__getitem__,
            clock,
            WorkerConfig(owner="w"),
            rng=random.Random(1),
        )
        enqueue(factory, clock, ROWS, CONNECTION)
        enqueue(factory, clock, ROWS, "at2")
        autotask.refuse_credentials()

        worker.run_once()

        assert len(other.adjustments()) == len(ROWS)
        assert other.violations() == []
    assert {r.status for r in rows_of(factory, "at2")} == {"sent"}
    assert {r.status for r in rows_of(factory, CONNECTION)} == {"pending"}
    assert set(shown(factory, clock)) == {CONNECTION, "at2"}
    assert shown(factory, clock)["at2"] is None and shown(factory, clock)[CONNECTION] is not None


def test_a_refused_verification_read_pauses_too(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, worker: Worker
) -> None:
    """After an unknown outcome the next call is a ContractServiceUnits read: same treatment."""
    enqueue(factory, clock, [Row(1, D, 5), Row(1, D + timedelta(days=1), 6)], CONNECTION)
    autotask.fault("applied_then_500", count=1)
    worker.run_once()  # the first row lands, its answer is lost: units unknown
    autotask.refuse_credentials()
    clock.advance(60)
    worker.run_once()
    assert autotask.rejections()["auth"] == 1
    assert {r.status for r in rows_of(factory)} == {"pending"}
    assert len(paused_alerts(factory)) == 1

    autotask.refuse_credentials(False)
    clock.advance(300)
    worker.run_once()
    assert {r.status for r in rows_of(factory)} == {"sent"}
    assert [a.unit_change for a in autotask.adjustments(1)] == [5, 1]  # verified, never sent twice


def test_probe_backoff_doubles_up_to_an_hour(factory: sessionmaker[Session], clock: ManualClock) -> None:
    intervals = []
    with transaction(factory) as session:
        for attempt in range(7):
            pause.pause(
                session,
                CONNECTION,
                clock.now(),
                "refused",
                probe_refused=attempt > 0,
                first_seconds=300,
                cap_seconds=3600,
            )
            intervals.append(session.execute(select(connection_pauses.c.probe_interval_seconds)).scalar_one())
        # A refusal seen outside a probe (a delivery already under way) changes nothing.
        pause.pause(
            session,
            CONNECTION,
            clock.now(),
            "refused",
            probe_refused=False,
            first_seconds=300,
            cap_seconds=3600,
        )
        assert session.execute(select(connection_pauses.c.probe_interval_seconds)).scalar_one() == 3600
    assert intervals == [300, 600, 1200, 2400, 3600, 3600, 3600]
    assert len(paused_alerts(factory)) == 1


def test_new_credentials_are_probed_at_once(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, worker: Worker
) -> None:
    enqueue(factory, clock, ROWS, CONNECTION)
    autotask.refuse_credentials()
    worker.run_once()
    assert shown(factory, clock)[CONNECTION] is not None
    autotask.refuse_credentials(False)  # the operator fixed the secret …
    answer = update_credentials(service(factory, clock), ADMIN, CONNECTION, {"secret": "rotated-2"})
    assert answer["paused"]["next_probe_at"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "secret" not in answer and "secret_encrypted" not in answer
    worker.run_once()  # … and the probe does not wait the 5 minutes out
    assert {r.status for r in rows_of(factory)} == {"sent"}
    assert shown(factory, clock)[CONNECTION] is None


def test_new_credentials_are_refused_for_another_resellers_connection(
    factory: sessionmaker[Session], clock: ManualClock
) -> None:
    with pytest.raises(NotFound):
        update_credentials(service(factory, clock), Actor("someone-else"), CONNECTION, {"secret": "x"})
    with pytest.raises(Invalid, match="secret is required"):
        update_credentials(service(factory, clock), ADMIN, CONNECTION, {"username": "u"})
