"""`serve`, `worker` and `db upgrade` are wired by bootstrap from one `Settings`: the environment
and a `.env` file in the working directory, so a worker cannot point at another database."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.bootstrap import WorkerProcess, build_app_service, build_worker_process
from contractsync.cli.app import build_app
from contractsync.delivery.config import WorkerConfig
from contractsync.service.actor import ADMIN
from contractsync.settings import Settings
from tests.alert_receiver import Receiver
from tests.fakes.outbox_data import Row, contract_of, enqueue_operation, seed_connection
from tests.integration.delivery.chaos_stack import free_port
from tests.sandbox_autotask import SandboxAutotask

runner = CliRunner()


@pytest.fixture
def dotenv_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of its own, and no CONTRACTSYNC_* variable in the environment."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in (
        "DATABASE_URL",
        "DATA_DIR",
        "LEASE_SECONDS",
        "HEARTBEAT_SECONDS",
        "SECRET_KEY",
        "ALERT_WEBHOOK_URL",
    ):
        monkeypatch.delenv(f"CONTRACTSYNC_{name}", raising=False)
    return folder


def write_dotenv(folder: Path, **values: str) -> None:
    lines = [f"CONTRACTSYNC_{name.upper()}={value}" for name, value in values.items()]
    (folder / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_worker_once_delivers_from_the_database_named_in_dotenv(
    dotenv_folder: Path, database_url: str, tmp_path: Path
) -> None:
    write_dotenv(dotenv_folder, database_url=database_url, data_dir=str(tmp_path / "data"))
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with transaction(session_factory(engine)) as session:
        seed_connection(session, now)
        enqueue_operation(session, [Row(1, date(2025, 3, 3), 4)], now)
    engine.dispose()
    seen: list[Settings] = []
    with SandboxAutotask() as autotask:
        autotask.contract_services({1: contract_of(1)})

        def build_worker(settings: Settings, config: WorkerConfig) -> WorkerProcess:
            seen.append(settings)
            return build_worker_process(settings, config, connector_factory=lambda _row: autotask.connector)

        result = runner.invoke(build_app(build_worker=build_worker), ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert seen[0].database_url == database_url
        assert autotask.units_on(1, date(2025, 3, 3)) == 4


def test_serve_and_the_worker_open_the_same_database(dotenv_folder: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'from-dotenv.db'}"
    write_dotenv(dotenv_folder, database_url=url, data_dir=str(tmp_path / "data"))
    service = build_app_service(Settings())  # what `serve` builds
    process = build_worker_process(Settings(), WorkerConfig())
    try:
        served = service.context.sessions.kw["bind"].url
        assert process.engine.url == served
        assert served.database == str(tmp_path / "from-dotenv.db")
    finally:
        process.close()
        service.context.sessions.kw["bind"].dispose()
    assert not (dotenv_folder / "contractsync.db").exists()


def test_db_upgrade_migrates_the_database_named_in_dotenv(dotenv_folder: Path, tmp_path: Path) -> None:
    database = tmp_path / "upgraded.db"
    write_dotenv(dotenv_folder, database_url=f"sqlite:///{database}")
    result = runner.invoke(build_app(), ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{database}")
    assert "adjustments" in inspect(engine).get_table_names()
    engine.dispose()
    assert not (dotenv_folder / "contractsync.db").exists()


def _recording_builder(configs: list[WorkerConfig]) -> Any:
    def build(_settings: Settings, config: WorkerConfig) -> Any:
        configs.append(config)
        worker = SimpleNamespace(run_once=lambda: SimpleNamespace(steps=0, services=0), abandoned=False)
        return SimpleNamespace(worker=worker, close=lambda: None)

    return build


def test_lease_and_heartbeat_come_from_settings_unless_given(
    dotenv_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_dotenv(dotenv_folder, database_url="sqlite://", lease_seconds="90")
    monkeypatch.setenv("CONTRACTSYNC_HEARTBEAT_SECONDS", "20")
    configs: list[WorkerConfig] = []
    app = build_app(build_worker=_recording_builder(configs))
    assert runner.invoke(app, ["worker", "--once"]).exit_code == 0
    assert (configs[0].lease_seconds, configs[0].heartbeat_seconds) == (90, 20)
    assert runner.invoke(app, ["worker", "--once", "--lease-seconds", "40"]).exit_code == 0
    assert (configs[1].lease_seconds, configs[1].heartbeat_seconds) == (40, 20)
    refused = runner.invoke(app, ["worker", "--once", "--lease-seconds", "30"])
    assert refused.exit_code == 2 and len(configs) == 2


def test_a_heartbeat_longer_than_half_the_lease_is_refused_in_the_settings(
    dotenv_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` leases contract-service creations with the same two settings, and has no options
    of its own to check them: the settings refuse the pair, for every command."""
    write_dotenv(dotenv_folder, database_url="sqlite://", lease_seconds="30")
    monkeypatch.setenv("CONTRACTSYNC_HEARTBEAT_SECONDS", "20")
    configs: list[WorkerConfig] = []
    refused = runner.invoke(build_app(build_worker=_recording_builder(configs)), ["worker", "--once"])
    assert refused.exit_code == 2 and not configs
    assert "CONTRACTSYNC_HEARTBEAT_SECONDS" in refused.stderr
    assert "at most half of CONTRACTSYNC_LEASE_SECONDS (30)" in refused.stderr


def test_the_worker_does_not_create_a_missing_database(dotenv_folder: Path, tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere" / "contractsync.db"
    write_dotenv(dotenv_folder, database_url=f"sqlite:///{missing}")
    configs: list[WorkerConfig] = []
    result = runner.invoke(build_app(build_worker=_recording_builder(configs)), ["worker", "--once"])
    assert result.exit_code == 2
    assert "no database at" in result.stderr and not configs
    assert not missing.exists()


def _expiring_token(dotenv_folder: Path, database_url: str, tmp_path: Path, webhook: str) -> None:
    """A .env naming the database and the webhook; an API token of r1 that expires in two days."""
    write_dotenv(dotenv_folder, database_url=database_url, data_dir=str(tmp_path / "data"),
                 alert_webhook_url=webhook)  # fmt: skip
    service = build_app_service(Settings())
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
    service.create_token("r1", expires_at=datetime.now(UTC) + timedelta(days=2), name="psa-sync")
    service.context.sessions.kw["bind"].dispose()


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]], ids=["worker", "serve"])
def test_a_running_worker_or_server_sends_alerts_to_the_webhook_named_in_dotenv(
    command: list[str], dotenv_folder: Path, database_url: str, tmp_path: Path
) -> None:
    """`contractsync worker` and `contractsync serve` themselves, processes of their own: each
    brings the alerts up to date every minute and sends the new ones (serve does it too, so that
    with no worker running someone is still told)."""
    receiver = Receiver()
    _expiring_token(dotenv_folder, database_url, tmp_path, receiver.url)
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    log = tmp_path / "process.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "contractsync", *command], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while not receiver.posts and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        receiver.stop()
    [post] = receiver.posts
    assert post["alert"]["kind"] == "token_expiring" and post["alert"]["reseller_id"] == "r1"
    assert "secret-part" not in log.read_text()  # the webhook's address is never logged
