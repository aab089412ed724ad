"""The SQLite database (and its WAL files) and the data dir's generated keys are readable by this
user only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contractsync.adapters.db import migrate
from contractsync.adapters.db.session import make_engine
from contractsync.adapters.secrets import load_or_create_key
from contractsync.web.keys import load_or_create_session_key


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default: files 0644, readable by everyone
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_are_0600(tmp_path: Path, open_umask: None) -> None:
    database = tmp_path / "contractsync.db"
    migrate.upgrade(f"sqlite:///{database}")
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT count(*) FROM api_tokens"))
            for name in ("contractsync.db", "contractsync.db-wal", "contractsync.db-shm"):
                path = tmp_path / name
                assert path.exists(), name
                assert mode(path) == 0o600, (name, oct(mode(path)))
    finally:
        engine.dispose()


def test_generated_keys_and_their_directory_are_private(tmp_path: Path, open_umask: None) -> None:
    data_dir = tmp_path / "data"
    load_or_create_key(data_dir, {})
    load_or_create_session_key(data_dir)
    assert mode(data_dir) == 0o700
    for path in data_dir.iterdir():
        assert mode(path) == 0o600, path
