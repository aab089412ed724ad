"""Crash safety: worker processes SIGKILLed at random moments, restarted, run to completion.

Autotask is the sandbox, served by the test process, so it survives the kills; the workers
reach it over HTTP with the real connector, and meet its thread limit when several run. After the run:
every row is sent, failed or superseded; Autotask holds each sent row's target on its date;
no adjustment was ever sent twice. The short forms run by default; the soak is marked slow.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.delivery.chaos import (
    check_invariants,
    enqueue_workload,
    run_with_kills,
    set_up_autotask,
    workload,
)
from tests.sandbox_autotask import ADJUSTMENTS, UNITS, SandboxAutotask

#: The sandbox's faults for the chaos runs: (endpoint, kind, rate). Final refusals come from
#: Autotask itself: one contract ends mid-workload (ENDED), so its later rows are outside it.
FAULTS = [
    (ADJUSTMENTS, "thread_threshold", 0.05),  # refused before it ran: retried
    (ADJUSTMENTS, "applied_then_500", 0.03),  # applied, the answer lost: verified
    (ADJUSTMENTS, "timeout", 0.03),  # a 504, not applied: verified
    (ADJUSTMENTS, "http_429", 0.02),  # throttled, not applied: retried
    (UNITS, "http_429", 0.1),  # a verification read throttled
]
ENDED = 106


@pytest.fixture
def autotask() -> Iterator[SandboxAutotask]:
    # The workers validate nothing (they are other processes); the connector tests do.
    with SandboxAutotask(validate=False) as sandbox:
        yield sandbox


def with_faults(autotask: SandboxAutotask) -> None:
    for endpoint, kind, rate in FAULTS:
        autotask.fault(kind, endpoint, rate=rate, delay_seconds=0)


def _is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def test_killed_worker_never_sends_twice(
    database_url: str, session_factory: sessionmaker[Session], autotask: SandboxAutotask
) -> None:
    rounds = workload(services=100, rows_per_service=8, seed=11)
    enqueue_workload(session_factory, rounds)
    set_up_autotask(autotask, services=100)
    run_with_kills(database_url, autotask, kills=10, workers=1, seed=11)
    counts = check_invariants(session_factory, autotask, rounds)
    assert counts == {"sent": 800}
    assert len(autotask.adjustments()) == 800
    # A kill between a call and its record costs a read, not a second create. (A kill while a
    # request is on its way loses it: it is sent again after the read, so at most one extra
    # call per kill.)
    assert 800 <= autotask.requests()[ADJUSTMENTS] <= 800 + 10


def test_four_workers_on_postgres_with_kills(
    database_url: str, session_factory: sessionmaker[Session], autotask: SandboxAutotask
) -> None:
    if not _is_postgres(database_url):
        pytest.skip("several worker processes need PostgreSQL (SQLite runs one worker)")
    rounds = workload(services=100, rows_per_service=8, seed=12)
    enqueue_workload(session_factory, rounds)
    set_up_autotask(autotask, services=100)
    run_with_kills(database_url, autotask, kills=6, workers=4, seed=12)
    assert check_invariants(session_factory, autotask, rounds) == {"sent": 800}


def test_connector_faults_and_kills(
    database_url: str, session_factory: sessionmaker[Session], autotask: SandboxAutotask
) -> None:
    workers = 3 if _is_postgres(database_url) else 1
    rounds = workload(services=80, rows_per_service=6, seed=13)
    enqueue_workload(session_factory, rounds)
    set_up_autotask(autotask, services=80, ended=ENDED)
    with_faults(autotask)
    run_with_kills(database_url, autotask, kills=4, workers=workers, seed=13)
    counts = check_invariants(session_factory, autotask, rounds)
    assert counts.get("failed", 0) + counts.get("superseded", 0) > 0  # the final refusals showed up
    assert set(autotask.stats()["faults_injected"]) == {
        "thread_threshold",
        "applied_then_500",
        "timeout",
        "http_429",
    }
    assert counts["sent"] > 400


@pytest.mark.slow
def test_soak_many_kills_with_faults(
    database_url: str, session_factory: sessionmaker[Session], autotask: SandboxAutotask
) -> None:
    workers = 4 if _is_postgres(database_url) else 1
    rounds = workload(services=300, rows_per_service=12, seed=14)
    enqueue_workload(session_factory, rounds)
    set_up_autotask(autotask, services=300, ended=ENDED)
    with_faults(autotask)
    run_with_kills(database_url, autotask, kills=25, workers=workers, seed=14)
    check_invariants(session_factory, autotask, rounds)
