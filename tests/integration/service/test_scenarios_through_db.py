"""Issue 3: every rule scenario, run through the database and the worker, matches `plan`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.service.replay import operations, replay

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted(p for p in SCENARIOS.glob("*.json") if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_through_database_and_worker_matches_plan(
    path: Path, database_url: str, tmp_path: Path
) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    service, _ = replay(path, database_url, tmp_path)
    got = operations(service)
    want = [
        {
            "type": op["type"],
            "subscription_id": op["subscription_id"],
            "status": op["status"],
            "adjustments": [{k: a[k] for k in a if k != "contract_id"} for a in op["adjustments"]],
        }
        for op in expected["operations"]
    ]
    assert got == want
