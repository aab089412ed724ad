"""The chaos run of issue 15 in its short form (the goal form: `benchmarks/bench_chaos.py`).

`contractsync serve --workers 2`, worker processes SIGKILLed and restarted, 10 % of adjustment requests failing
in the sandbox (500, 429, applied-then-500, timeout, connection reset), quantity changes sent one at
a time through `POST /v1/subscriptions/{id}/operations`. Afterwards Autotask must hold, on every
date of every contract service, the units and price of the plan; no caller was answered 5xx.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.integration.delivery.chaos_stack import ChaosConfig, run_chaos, stack


def test_short_chaos_run_is_exact_on_every_date(database_url: str, tmp_path: Path) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("several worker processes need PostgreSQL (SQLite runs one worker)")
    config = ChaosConfig(
        operations=400,
        subscriptions=20,
        workers=2,
        kills=3,
        clients=4,
        seed=7,
        lease_seconds=3.0,
        heartbeat_seconds=1.0,
    )
    with stack(
        database_url,
        tmp_path / "stack",
        budget=config.budget,
        thread_limit=config.thread_limit,
        serve_workers=2,  # two API processes take the changes: each its own group commit
    ) as running:
        result = run_chaos(running, config, log=lambda _line: None)
    assert result.kills == 3
    assert result.answered_5xx == 0 and result.transport_errors == 0
    assert result.accepted == 400 and result.refused_4xx == 0
    assert sum(result.faults.values()) > 0  # the faults did happen
    assert result.services_checked == 20 and result.dates_checked >= 20 * 21
    assert result.mismatches == []
    # An applied-then-500 is verified, not sent again: Autotask never saw a date twice.
    assert result.duplicate_rejections == 0
    assert result.ledger_drift == 0  # the self-check agrees with every verification made
