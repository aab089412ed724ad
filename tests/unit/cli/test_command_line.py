"""The `contractsync` program as a user runs it: usage errors in one line, one reader of the
environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contractsync.settings import environment_value

SRC = Path(__file__).resolve().parents[3] / "src" / "contractsync"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACTSYNC_")}
    return subprocess.run(
        [sys.executable, "-m", "contractsync", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**env, "COLUMNS": "80"},
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no-such-command"], "error: No such command 'no-such-command'."),
        (["sweep", "--format", "xml"], "error: Invalid value for '--format'"),
        (["plan"], "error: Missing argument 'file'."),
        (["worker", "--heartbeat-seconds", "100"], "--heartbeat-seconds: must be at most half"),
    ],
)
def test_a_usage_error_exits_2_with_one_line(args: list[str], says: str, tmp_path: Path) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "contractsync.db").exists()


def test_help_still_exits_0(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "worker" in result.stdout and "partner-center" in result.stdout


def test_settings_is_the_only_reader_of_the_environment() -> None:
    """Only settings.py (the Partner Center variables too: bootstrap hands them in through the
    context's outbound policy; the demo builds Settings)."""
    allowed = {"settings.py"}
    readers = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8"))
        and "migrations" not in path.parts
    }
    assert readers <= allowed, sorted(readers - allowed)


def test_a_named_variable_is_read_from_the_environment_then_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PC_TEST_SECRET=from-dotenv\nPC_TEST_EMPTY=\n", encoding="utf-8")
    monkeypatch.delenv("PC_TEST_SECRET", raising=False)
    assert environment_value("PC_TEST_SECRET") == "from-dotenv"
    monkeypatch.setenv("PC_TEST_SECRET", "from-environment")
    assert environment_value("PC_TEST_SECRET") == "from-environment"
    assert environment_value("PC_TEST_EMPTY") is None
    assert environment_value("PC_TEST_UNSET_ANYWHERE") is None
