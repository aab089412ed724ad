"""`contractsync db upgrade|downgrade` and `contractsync worker --once` through typer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import typer
from sqlalchemy import inspect
from typer.testing import CliRunner

from contractsync.adapters.autotask import AutotaskConnector
from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.bootstrap import build_worker_process
from contractsync.cli.app import build_app
from tests.fakes.outbox_data import Row, contract_of, enqueue_operation, seed_connection
from tests.sandbox_autotask import SandboxAutotask


def _app(connector: AutotaskConnector | None = None) -> typer.Typer:
    return build_app(
        build_worker=lambda settings, config: build_worker_process(
            settings, config, connector_factory=lambda _connection: connector
        )
    )


def test_db_upgrade_and_downgrade(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTRACTSYNC_DATABASE_URL", empty_database_url)
    runner = CliRunner()
    assert runner.invoke(_app(), ["db", "upgrade"]).exit_code == 0
    engine = make_engine(empty_database_url)
    assert "adjustments" in inspect(engine).get_table_names()
    assert runner.invoke(_app(), ["db", "downgrade", "base"]).exit_code == 0
    assert "adjustments" not in inspect(engine).get_table_names()
    engine.dispose()


def test_worker_once_delivers_what_is_due(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(database_url)
    factory = session_factory(engine)
    now = datetime.now(UTC)
    with transaction(factory) as session:
        seed_connection(session, now)
        enqueue_operation(session, [Row(1, date(2025, 3, 3), 4), Row(2, date(2025, 3, 3), 6)], now)
    engine.dispose()
    monkeypatch.setenv("CONTRACTSYNC_DATABASE_URL", database_url)
    with SandboxAutotask() as autotask:
        autotask.contract_services({1: contract_of(1), 2: contract_of(2)})
        result = CliRunner().invoke(_app(autotask.connector), ["worker", "--once", "--concurrency", "2"])
        assert result.exit_code == 0, result.output
        assert "2 contract services" in result.output
        assert autotask.units_on(1, date(2025, 3, 3)) == 4 and autotask.units_on(2, date(2025, 3, 3)) == 6
        assert autotask.violations() == []
