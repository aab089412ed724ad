"""The operator commands over the real façade on the in-memory unit of work: output, exit codes
and one-line reasons."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from contractsync.cli.app import register_service_commands as register
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Unavailable
from contractsync.service.facade import ContractSync
from tests.memory_service import BreakableUnits, connection, reseller_service, snapshot

runner = CliRunner()


@pytest.fixture
def units() -> BreakableUnits:
    return BreakableUnits()


@pytest.fixture
def service(units: BreakableUnits) -> ContractSync:
    """Reseller r1 with connections at1 and at2 (nothing mapped: no Autotask is read)."""
    service = reseller_service(units)
    for connection_id in ("at1", "at2"):
        service.create_connection(ADMIN, connection(connection_id, "r1"))
    return service


def cli(service: ContractSync) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app, build_service=lambda: service)
    return app


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error:")
    return lines[0]


def test_tokens_create_prints_the_token_once(service: ContractSync) -> None:
    result = runner.invoke(cli(service), ["tokens", "create", "--reseller", "r1"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert service.authenticate(token).reseller_id == "r1"
    admin = runner.invoke(cli(service), ["tokens", "create", "--admin"])
    assert admin.exit_code == 0
    assert service.authenticate(admin.stdout.strip()).is_admin


@pytest.mark.parametrize(
    "args",
    [
        ["tokens", "create"],
        ["tokens", "create", "--admin", "--reseller", "r1"],
        ["tokens", "create", "--reseller", " "],
    ],
)
def test_tokens_create_needs_exactly_one_scope(service: ContractSync, args: list[str]) -> None:
    tokens = service.list_tokens(ADMIN)
    result = runner.invoke(cli(service), args)
    assert result.exit_code == 2
    one_line_error(result.stderr)
    assert service.list_tokens(ADMIN) == tokens


def test_unknown_reseller_is_bad_input(service: ContractSync) -> None:
    result = runner.invoke(cli(service), ["tokens", "create", "--reseller", "nope"])
    assert result.exit_code == 2
    assert "nope" in one_line_error(result.stderr)


def test_sweep_as_json_and_as_a_table(service: ContractSync) -> None:
    result = runner.invoke(cli(service), ["sweep", "--date", "2024-05-20", "--preview", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "date": "2024-05-20", "preview": True, "subscriptions": 0, "counts": {}, "operations": []
    }  # fmt: skip
    table = runner.invoke(cli(service), ["sweep", "--date", "2024-05-21"])
    assert table.exit_code == 0
    assert "sweep for 2024-05-21" in table.stdout


@pytest.mark.parametrize("day", ["2024-13-01", "tomorrow", "2024-5-1", "20240501"])
def test_sweep_refuses_a_bad_date(service: ContractSync, day: str) -> None:
    before = snapshot(service)
    result = runner.invoke(cli(service), ["sweep", "--date", day])
    assert result.exit_code == 2
    assert day in one_line_error(result.stderr)
    assert snapshot(service) == before


def test_reconcile_every_connection_or_one(service: ContractSync) -> None:
    result = runner.invoke(cli(service), ["reconcile", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"connection_id": None, "differences": [], "fixed": 0}
    assert [runs(service, c) for c in ("at1", "at2")] == [["on_demand"], ["on_demand"]]  # one run each
    one = runner.invoke(cli(service), ["reconcile", "--connection", "at2", "--fix"])
    assert one.exit_code == 0, one.output
    assert [runs(service, c) for c in ("at1", "at2")] == [["on_demand"], ["fix", "on_demand"]]
    missing = runner.invoke(cli(service), ["reconcile", "--connection", "nope"])
    assert missing.exit_code == 2
    one_line_error(missing.stderr)


def runs(service: ContractSync, connection_id: str) -> list[str]:
    """The triggers of the connection's stored reconciliation runs, newest first."""
    return [run["trigger"] for run in service.reconciliation_runs(ADMIN, connection_id)["items"]]


def test_deliveries_run(service: ContractSync) -> None:
    result = runner.invoke(cli(service), ["deliveries", "run", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sent"] == 0


def test_failures_exit_1_with_one_line(service: ContractSync, units: BreakableUnits) -> None:
    units.failure = Unavailable("the database is in recovery:\nread-only until it is done")
    result = runner.invoke(cli(service), ["reconcile", "--connection", "at1"])
    assert result.exit_code == 1
    assert "the database is in recovery" in one_line_error(result.stderr)


def test_an_unreachable_database_exits_1_with_one_line() -> None:
    def broken() -> ContractSync:
        raise ConnectionError("could not connect to server:\nConnection refused")

    app = typer.Typer()
    app.callback()(lambda: None)
    register(app, build_service=broken)
    result = runner.invoke(app, ["deliveries", "run"])
    assert result.exit_code == 1
    assert "Connection refused" in one_line_error(result.stderr)


def test_sweep_defaults_to_today(service: ContractSync) -> None:
    from datetime import UTC, datetime

    result = runner.invoke(cli(service), ["sweep", "--preview", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["date"] == datetime.now(UTC).date().isoformat()


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
