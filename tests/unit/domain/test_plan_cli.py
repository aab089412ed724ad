"""`contractsync plan` as a user runs it: real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contractsync", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=None if env is None else {**os.environ, **env},
    )


def test_example_prints_the_adjustments_as_json() -> None:
    result = run("plan", "examples/quantity-and-margin.json", "--format", "json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    quantity = next(
        op for op in answer["operations"] if op["type"] == "UpdateSubscriptionQuantityOnConnection"
    )
    assert quantity["adjustments"] == [
        {
            "contract_id": 100,
            "contract_service_id": 1000,
            "effective_date": "2024-05-20",
            "unit_change": 2,
            "adjusted_unit_price": "12.0000",
            "adjusted_unit_cost": "10.0000",
            "sent_at": "2024-05-20T10:00:00Z",
        }
    ]


def test_table_output_names_operations_and_timeline() -> None:
    result = run("plan", "examples/quantity-and-margin.json")
    assert result.returncode == 0, result.stderr
    assert "Connection operations" in result.stdout
    assert "12.5000" in result.stdout


def test_table_fits_80_columns_and_names_operations_plainly() -> None:
    result = run("plan", "examples/quantity-and-margin.json", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "Quantity change" in result.stdout
    assert "UpdateSubscriptionQuantityOnConnection" not in result.stdout


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s["subscriptions"][0].update(quantity="ten"), "subscriptions[0].quantity"),
        (lambda s: s["subscriptions"][0].update(kind="perpetual"), "subscriptions[0].kind"),
        (lambda s: s["subscriptions"][0].update(list_price=10.5), "subscriptions[0].list_price"),
        (lambda s: s["contracts"][0].pop("end_date"), "contracts[0].end_date"),
        (lambda s: s["events"][0].update(type="teleport"), "events[0].type"),
        (lambda s: s["events"][0].update(at="yesterday"), "events[0].at"),
        (lambda s: s["connection"].update(timezone="Mars/Olympus"), "connection.timezone"),
        (lambda s: s.update(evnts=s.pop("events")), "evnts: unknown key"),
        (lambda s: s.pop("events"), "events is required"),
        (lambda s: s.clear(), "connection is required"),
        (lambda s: s["subscriptions"][0].update(list_price="10.0.0"), "not a number: '10.0.0'"),
    ],
)
def test_a_malformed_scenario_names_the_field_and_exits_2(tmp_path: Path, mutate: object, field: str) -> None:
    scenario = json.loads((ROOT / "examples/quantity-and-margin.json").read_text())
    mutate(scenario)  # type: ignore[operator]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario))
    result = run("plan", str(path), "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert field in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_and_invalid_files_exit_2(tmp_path: Path) -> None:
    assert run("plan", str(tmp_path / "nope.json")).returncode == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run("plan", str(broken))
    assert result.returncode == 2 and "not valid JSON" in result.stderr
