"""The operator commands over the fake façade: output, exit codes and one-line reasons."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from contractsync.cli.app import register_service_commands as register
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Forbidden
from tests.fakes.fake_service import FakeContractSync

runner = CliRunner()


@pytest.fixture
def fake() -> FakeContractSync:
    fake = FakeContractSync()
    fake.create_reseller(ADMIN, {"id": "r1", "name": "R1", "promotion_setting": "keep"})
    for n in ("1", "2"):
        fake.create_connection(
            ADMIN,
            {"id": f"at{n}", "reseller_id": "r1", "kind": "autotask", "username": "u", "secret": "s",
             "integration_code": "IC", "timezone": "UTC"},
        )  # fmt: skip
    fake.calls.clear()
    return fake


def cli(fake: FakeContractSync) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app, build_service=lambda: fake)
    return app


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error:")
    return lines[0]


def test_tokens_create_prints_the_token_once(fake: FakeContractSync) -> None:
    result = runner.invoke(cli(fake), ["tokens", "create", "--reseller", "r1"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert fake.authenticate(token).reseller_id == "r1"
    admin = runner.invoke(cli(fake), ["tokens", "create", "--admin"])
    assert admin.exit_code == 0
    assert fake.authenticate(admin.stdout.strip()).is_admin


@pytest.mark.parametrize(
    "args",
    [
        ["tokens", "create"],
        ["tokens", "create", "--admin", "--reseller", "r1"],
        ["tokens", "create", "--reseller", " "],
    ],
)
def test_tokens_create_needs_exactly_one_scope(fake: FakeContractSync, args: list[str]) -> None:
    result = runner.invoke(cli(fake), args)
    assert result.exit_code == 2
    one_line_error(result.stderr)
    assert fake.use_case_calls() == []


def test_unknown_reseller_is_bad_input(fake: FakeContractSync) -> None:
    result = runner.invoke(cli(fake), ["tokens", "create", "--reseller", "nope"])
    assert result.exit_code == 2
    assert "nope" in one_line_error(result.stderr)


def test_sweep_as_json_and_as_a_table(fake: FakeContractSync) -> None:
    result = runner.invoke(cli(fake), ["sweep", "--date", "2024-05-20", "--preview", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"date": "2024-05-20", "operations": [], "preview": True}
    assert fake.calls[-1] == ("sweep", (ADMIN, {"date": "2024-05-20", "preview": True}))
    table = runner.invoke(cli(fake), ["sweep", "--date", "2024-05-21"])
    assert table.exit_code == 0
    assert "sweep for 2024-05-21" in table.stdout


@pytest.mark.parametrize("day", ["2024-13-01", "tomorrow", "2024-5-1", "20240501"])
def test_sweep_refuses_a_bad_date(fake: FakeContractSync, day: str) -> None:
    result = runner.invoke(cli(fake), ["sweep", "--date", day])
    assert result.exit_code == 2
    assert day in one_line_error(result.stderr)
    assert fake.use_case_calls() == []


def test_reconcile_every_connection_or_one(fake: FakeContractSync) -> None:
    result = runner.invoke(cli(fake), ["reconcile", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"connection_id": None, "differences": [], "fixed": 0}
    assert [c for c in fake.use_case_calls() if c == "reconciliation"] == ["reconciliation"] * 2
    one = runner.invoke(cli(fake), ["reconcile", "--connection", "at2", "--fix"])
    assert one.exit_code == 0, one.output
    assert fake.calls[-1] == ("reconciliation", (ADMIN, "at2", True))
    missing = runner.invoke(cli(fake), ["reconcile", "--connection", "nope"])
    assert missing.exit_code == 2
    one_line_error(missing.stderr)


def test_deliveries_run(fake: FakeContractSync) -> None:
    result = runner.invoke(cli(fake), ["deliveries", "run", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sent"] == 0


def test_failures_exit_1_with_one_line(fake: FakeContractSync) -> None:
    def forbidden(actor: object) -> dict[str, object]:
        raise Forbidden("only the provider runs deliveries")

    fake.run_deliveries = forbidden  # type: ignore[method-assign, assignment]
    result = runner.invoke(cli(fake), ["deliveries", "run"])
    assert result.exit_code == 1
    assert "only the provider" in one_line_error(result.stderr)


def test_an_unreachable_database_exits_1_with_one_line() -> None:
    def broken() -> FakeContractSync:
        raise ConnectionError("could not connect to server:\nConnection refused")

    app = typer.Typer()
    app.callback()(lambda: None)
    register(app, build_service=broken)
    result = runner.invoke(app, ["deliveries", "run"])
    assert result.exit_code == 1
    assert "Connection refused" in one_line_error(result.stderr)


def test_sweep_defaults_to_today(fake: FakeContractSync) -> None:
    from datetime import UTC, datetime

    result = runner.invoke(cli(fake), ["sweep", "--preview", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert fake.calls[-1][1][1]["date"] == datetime.now(UTC).date().isoformat()


@pytest.mark.parametrize("command", [["sweep", "--preview"], ["reconcile"], ["deliveries", "run"]])
def test_a_command_on_stored_state_does_not_create_a_database(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    from pathlib import Path

    missing = Path(str(tmp_path)) / "elsewhere" / "contractsync.db"
    monkeypatch.setenv("CONTRACTSYNC_DATABASE_URL", f"sqlite:///{missing}")
    monkeypatch.setenv("CONTRACTSYNC_DATA_DIR", str(Path(str(tmp_path)) / "data"))
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "no database at" in one_line_error(result.stderr)
    assert not missing.exists()
