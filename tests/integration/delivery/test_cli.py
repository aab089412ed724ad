"""`contractsync db upgrade|downgrade` and `contractsync worker --once` through typer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import inspect
from typer.testing import CliRunner

from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.bootstrap import build_worker_process
from contractsync.cli.app import build_app
from tests.fakes.fake_autotask import FakeAutotask
from tests.fakes.outbox_data import Row, enqueue_operation, seed_connection


def _app(fake: FakeAutotask | None = None) -> typer.Typer:
    return build_app(
        build_worker=lambda settings, config: build_worker_process(
            settings, config, connector_factory=lambda _connection: fake
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


def test_worker_once_delivers_what_is_due(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    factory = session_factory(engine)
    now = datetime.now(UTC)
    with transaction(factory) as session:
        seed_connection(session, now)
        enqueue_operation(session, [Row(1, date(2025, 3, 3), 4), Row(2, date(2025, 3, 3), 6)], now)
    engine.dispose()
    fake = FakeAutotask(tmp_path / "autotask.db")
    monkeypatch.setenv("CONTRACTSYNC_DATABASE_URL", database_url)
    result = CliRunner().invoke(_app(fake), ["worker", "--once", "--concurrency", "2"])
    assert result.exit_code == 0, result.output
    assert "2 contract services" in result.output
    assert fake.units_on(1, date(2025, 3, 3)) == 4 and fake.units_on(2, date(2025, 3, 3)) == 6
