"""`contractsync tokens create|list|revoke` on a real SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from contractsync.bootstrap import build_app_service
from contractsync.cli.app import register_service_commands as register
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Unauthorized
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings

runner = CliRunner()


@pytest.fixture
def service(tmp_path: Path) -> ContractSync:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cs.db'}", data_dir=tmp_path / "data")
    service = build_app_service(settings, connector_factory=lambda row: None)
    service.create_reseller(ADMIN, {"id": "r1", "name": "R1", "promotion_setting": "keep"})
    return service


def cli(service: ContractSync) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app, build_service=lambda: service)
    return app


def test_tokens_are_created_listed_and_revoked(service: ContractSync) -> None:
    created = runner.invoke(cli(service), ["tokens", "create", "--reseller", "r1", "--expires-in-days", "30"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert service.authenticate(token).reseller_id == "r1"

    listed = runner.invoke(cli(service), ["tokens", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    [entry] = json.loads(listed.stdout)
    assert entry["reseller_id"] == "r1" and entry["source"] == "cli" and entry["expires_at"] is not None
    assert entry["last_used_at"] is not None and token not in listed.stdout
    table = runner.invoke(cli(service), ["tokens", "list"])
    assert table.exit_code == 0 and "reseller" in table.stdout

    revoked = runner.invoke(cli(service), ["tokens", "revoke", str(entry["id"])])
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(Unauthorized):
        service.authenticate(token)
    again = runner.invoke(cli(service), ["tokens", "revoke", str(entry["id"])])
    assert again.exit_code == 2 and "not found" in again.stderr


@pytest.mark.parametrize("args", [["tokens", "revoke", "x"], ["tokens", "revoke", "0"],
                                  ["tokens", "create", "--admin", "--expires-in-days", "0"]])  # fmt: skip
def test_bad_token_arguments_exit_2(service: ContractSync, args: list[str]) -> None:
    assert runner.invoke(cli(service), args).exit_code == 2


def test_a_token_created_with_a_name_is_listed_by_it(service: ContractSync) -> None:
    created = runner.invoke(cli(service), ["tokens", "create", "--admin", "--name", "Nightly import"])
    assert created.exit_code == 0, created.output
    assert service.authenticate(created.stdout.strip()).name == "Nightly import"
    listed = runner.invoke(cli(service), ["tokens", "list", "--format", "json"])
    assert [t["name"] for t in json.loads(listed.stdout)] == ["Nightly import"]
    twice = runner.invoke(cli(service), ["tokens", "create", "--reseller", "r1", "--name", "Nightly import"])
    assert twice.exit_code != 0 and "exists already" in twice.stderr
    assert len(json.loads(runner.invoke(cli(service), ["tokens", "list", "--format", "json"]).stdout)) == 1
