"""Crash safety: worker processes SIGKILLed at random moments, restarted, run to completion.

The fake Autotask keeps its state in its own file, so it survives the kills. After the run:
every row is sent, failed or superseded; Autotask holds each sent row's target on its date;
no adjustment was ever sent twice. The short forms run by default; the soak is marked slow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tests.fakes.fake_autotask import FakeAutotask, Faults
from tests.integration.delivery.chaos import check_invariants, enqueue_workload, run_with_kills, workload

FAULTS = Faults(
    retryable=0.05,
    final=0.02,
    applied_then_timeout=0.03,
    lost_timeout=0.03,
    timeout_before_send=0.02,
    read_retryable=0.1,
)


def _is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def test_killed_worker_never_sends_twice(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rounds = workload(services=100, rows_per_service=8, seed=11)
    enqueue_workload(session_factory, rounds)
    fake = FakeAutotask(tmp_path / "autotask.db")
    run_with_kills(database_url, fake.path_obj, kills=10, workers=1, faults=Faults(), seed=11)
    counts = check_invariants(session_factory, fake, rounds)
    assert counts == {"sent": 800}
    assert len(fake.adjustments()) == 800
    # A kill between a call and its record costs a read, not a second create. (A kill inside
    # the fake, between counting a call and applying it, is a request lost on the way: it is
    # sent again after the read, so at most one extra call per kill.)
    assert 800 <= fake.calls()["create_adjustment"] <= 800 + 10


def test_four_workers_on_postgres_with_kills(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    if not _is_postgres(database_url):
        pytest.skip("several worker processes need PostgreSQL (SQLite runs one worker)")
    rounds = workload(services=100, rows_per_service=8, seed=12)
    enqueue_workload(session_factory, rounds)
    fake = FakeAutotask(tmp_path / "autotask.db")
    run_with_kills(database_url, fake.path_obj, kills=6, workers=4, faults=Faults(), seed=12)
    assert check_invariants(session_factory, fake, rounds) == {"sent": 800}


def test_connector_faults_and_kills(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    workers = 3 if _is_postgres(database_url) else 1
    rounds = workload(services=80, rows_per_service=6, seed=13)
    enqueue_workload(session_factory, rounds)
    fake = FakeAutotask(tmp_path / "autotask.db")
    run_with_kills(database_url, fake.path_obj, kills=4, workers=workers, faults=FAULTS, seed=13)
    counts = check_invariants(session_factory, fake, rounds)
    assert counts.get("failed", 0) + counts.get("superseded", 0) > 0  # the final faults showed up
    assert counts["sent"] > 400


@pytest.mark.slow
def test_soak_many_kills_with_faults(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    workers = 4 if _is_postgres(database_url) else 1
    rounds = workload(services=300, rows_per_service=12, seed=14)
    enqueue_workload(session_factory, rounds)
    fake = FakeAutotask(tmp_path / "autotask.db")
    run_with_kills(database_url, fake.path_obj, kills=25, workers=workers, faults=FAULTS, seed=14)
    check_invariants(session_factory, fake, rounds)
