"""Every rule has a scenario file in tests/scenarios/ with its expected `plan --format json` answer.

The expected answers were checked by hand against SPEC §2 (see the numbers in each file); set
CONTRACTSYNC_UPDATE_SCENARIOS=1 to rewrite them after an intended change, and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from contractsync.scenario.loader import load_scenario
from contractsync.scenario.report import as_json
from contractsync.scenario.runner import run_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted(p for p in SCENARIOS.glob("*.json") if not p.name.endswith(".expected.json"))


def plan(path: Path) -> dict[str, object]:
    return as_json(run_scenario(load_scenario(path)))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_gives_the_expected_plan(path: Path) -> None:
    expected_path = path.with_suffix(".expected.json")
    answer = plan(path)
    if os.environ.get("CONTRACTSYNC_UPDATE_SCENARIOS"):
        expected_path.write_text(json.dumps(answer, indent=2) + "\n")
    assert answer == json.loads(expected_path.read_text())


def test_every_rule_has_a_scenario() -> None:
    names = " ".join(p.stem for p in FILES)
    for rule in ["r1-", "r1a", "r1b", "r1c", "r2-", "r2a", "r2b", "r3", "r4-", "r4a", "r4b", "r5-", "r5a",
                 "r6-expiration-seed-example", "r7a", "r7b", "r7c", "u1-upgrade-manual", "u1-upgrade-auto",
                 "u2-suspend-legacy-manual", "u2-suspend-legacy-auto", "u3-change-reseller-manual",
                 "u3-change-reseller-auto", "f1"]:  # fmt: skip
        assert rule in names, f"no scenario for {rule}"


def _adjustments(answer: dict[str, object], kind: str) -> list[dict[str, object]]:
    operations = answer["operations"]
    assert isinstance(operations, list)
    return [a for op in operations if op["type"] == kind for a in op["adjustments"]]


def test_seed_expiration_example_is_dated_the_day_after_the_end() -> None:
    answer = plan(SCENARIOS / "r6-expiration-seed-example.json")
    [adjustment] = _adjustments(answer, "ExpireSubscriptionOnConnection")
    assert adjustment["effective_date"] == "2022-11-25"
    assert adjustment["unit_change"] == -10
    # The second sweep of the same day produced nothing more.
    assert len(answer["operations"]) == 2  # type: ignore[arg-type]


def test_seed_upgrade_example_ends_at_nine_and_three() -> None:
    answer = plan(SCENARIOS / "u1-upgrade-auto.json")
    timelines = answer["contract_services"]
    assert isinstance(timelines, dict)
    assert timelines["1000"][-1]["units"] == 9
    assert timelines["1001"][-1]["units"] == 3
    manual = plan(SCENARIOS / "u1-upgrade-manual.json")
    actions = manual["manual_actions"]
    assert isinstance(actions, list)
    assert [(a["contract_service_id"], a["unit_change"]) for a in actions] == [(1000, -1), (1001, 1)]


def test_same_day_changes_coalesce_and_a_late_one_goes_to_the_next_day() -> None:
    answer = plan(SCENARIOS / "r1a-same-day-last-wins.json")
    statuses = [op["status"] for op in answer["operations"]]  # type: ignore[attr-defined]
    assert statuses == ["succeeded", "superseded", "succeeded", "succeeded"]
    sent = _adjustments(answer, "UpdateSubscriptionQuantityOnConnection")
    assert [(a["effective_date"], a["unit_change"], a["sent_at"]) for a in sent] == [
        ("2024-05-20", 5, "2024-05-20T10:15:00Z"),
        ("2024-05-21", -1, "2024-05-20T11:10:00Z"),
    ]
