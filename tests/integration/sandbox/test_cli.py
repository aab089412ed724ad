"""`contractsync sandbox` as registered by contractsync.cli.sandbox.register."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from contractsync.cli.sandbox import register


def test_sandbox_command_prints_url_and_credentials_and_serves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(app=app, **kwargs))
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from collapsing the group
        """Nothing."""

    result = CliRunner().invoke(
        app,
        ["sandbox", "--port", "9911", "--seed", "demo", "--data", str(tmp_path / "s.db"), "--secret", "s3"],
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:9911/atservicesrest/v1.0" in result.output
    assert "sandbox@example.com" in result.output and "SANDBOX" in result.output
    assert served["port"] == 9911
    state = served["app"].state.sandbox
    assert state.config.secret == "s3" and len(state.store.all("Companies")) == 2
    state.store.close()


def test_unknown_seed_is_refused() -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["sandbox", "--seed", "nope"])
    assert result.exit_code == 2
