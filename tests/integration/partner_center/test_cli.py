"""`contractsync import partner-center` as a user runs it: exit codes, output, preview."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from contractsync.cli.importing import register
from contractsync.service.actor import ADMIN
from tests.integration.partner_center.world import SECRET_KEY, SUB, World, build_world, partner_center
from tests.sandbox_autotask import SandboxAutotask
from tests.unit.partner_center.samples import needs_samples, sample

app = typer.Typer()


@app.callback()
def _root() -> None:
    """The `contractsync` app as cli.py builds it (the lead wires `register` in there)."""


register(app)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with SandboxAutotask() as autotask:
        yield build_world(database_url, tmp_path, autotask)
        assert autotask.violations() == []


@pytest.fixture
def invoke(database_url: str, tmp_path: Path) -> Any:
    env = {
        "CONTRACTSYNC_DATABASE_URL": database_url,
        "CONTRACTSYNC_DATA_DIR": str(tmp_path),
        "CONTRACTSYNC_SECRET_KEY": SECRET_KEY,
        "CONTRACTSYNC_ADMIN_TOKEN": "",
    }

    def run(*args: str | Path) -> Result:
        return CliRunner().invoke(app, ["import", "partner-center", *map(str, args)], env=env)

    return run


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_import_applies_and_answers_json(world: World, invoke: Any, tmp_path: Path) -> None:
    world.subscription()
    file = write(tmp_path, "sub.json", partner_center(Quantity=7))
    result = invoke(file, "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["counts"] == {"updated": 1}
    assert world.service.get_subscription(ADMIN, SUB)["quantity"] == 7


def test_preview_prints_a_table_and_stores_nothing(world: World, invoke: Any, tmp_path: Path) -> None:
    world.subscription()
    before = world.service.get_subscription(ADMIN, SUB)
    result = invoke(write(tmp_path, "sub.json", partner_center(Quantity=7)), "--preview")
    assert result.exit_code == 0, result.output
    assert "PREVIEW" in result.stdout and "update_quantity" in result.stdout
    assert world.service.get_subscription(ADMIN, SUB) == before


def test_a_failed_record_exits_1(world: World, invoke: Any, tmp_path: Path) -> None:
    world.subscription()
    before = world.service.get_subscription(ADMIN, SUB)
    result = invoke(write(tmp_path, "sub.json", partner_center(Status="Frozen")), "--format", "json")
    assert result.exit_code == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert "Frozen" in error["message"]
    assert world.service.get_subscription(ADMIN, SUB) == before


@pytest.mark.parametrize("content", ["{not json", "", '{"hello": 1}'])
def test_bad_input_exits_2_with_one_line(invoke: Any, tmp_path: Path, content: str) -> None:
    result = invoke(write(tmp_path, "bad.json", content))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: bad.json: document: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_file_exits_2(invoke: Any, tmp_path: Path) -> None:
    result = invoke(tmp_path / "nowhere.json")
    assert result.exit_code == 2
    assert "nowhere.json" in result.stderr


def test_a_price_list_lets_new_subscriptions_be_created(world: World, invoke: Any, tmp_path: Path) -> None:
    other = "6c3d0e2f-8a4b-5f7c-9d1e-2b3c4d5e6f70"
    prices = write(tmp_path, "prices.json", {"cfq7ttc0lf8s:0001": "30.40"})
    result = invoke(
        write(tmp_path, "sub.json", partner_center(other)), "--prices", prices, "--format", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"created": 1}
    stored = world.service.get_subscription(ADMIN, other)
    assert (stored["customer_id"], stored["list_price"]) == ("c1", "30.4000")


def test_a_bad_price_list_exits_2(invoke: Any, tmp_path: Path) -> None:
    prices = write(tmp_path, "prices.json", {"CFQ7TTC0LF8S:0001": "cheap"})
    result = invoke(write(tmp_path, "sub.json", partner_center()), "--prices", prices)
    assert result.exit_code == 2
    assert "prices.json: CFQ7TTC0LF8S:0001" in result.stderr


@needs_samples
def test_every_reference_file_at_once(world: World, invoke: Any) -> None:
    files = sorted(sample("").glob("*.json"))
    result = invoke(*files, "--preview", "--format", "json")
    # The Azure savings plan (a one-time benefit purchase) is the one record refused.
    assert result.exit_code == 1, result.output
    answer = json.loads(result.stdout)
    assert [e["file"] for e in answer["errors"]] == ["doc-azure-savings-plan-subscription.json"]
    assert len(answer["files"]) == len(files)


def test_the_contractsync_command_has_it(tmp_path: Path) -> None:
    """Through `python -m contractsync`, as wired in cli.py (bad input is refused before any database)."""
    bad = write(tmp_path, "bad.json", "[1, 2")
    result = subprocess.run(
        [sys.executable, "-m", "contractsync", "import", "partner-center", str(bad)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: bad.json: document: is not valid JSON")


def test_preview_in_another_folder_does_not_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere" / "contractsync.db"
    env = {"CONTRACTSYNC_DATABASE_URL": f"sqlite:///{missing}", "CONTRACTSYNC_DATA_DIR": str(tmp_path)}
    file = write(tmp_path, "sub.json", partner_center(Quantity=7))
    result = CliRunner().invoke(app, ["import", "partner-center", str(file), "--preview"], env=env)
    assert result.exit_code == 2
    assert "no database at" in result.stderr
    assert not missing.exists()
