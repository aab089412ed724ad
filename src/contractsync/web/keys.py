"""The console's cookie-signing key, kept in the data dir so sessions survive a restart and are
shared by every process that serves the console from the same data dir."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

SESSION_KEY_FILE = "console-session.key"


def read_or_create_private_file(path: Path, create: Callable[[], bytes]) -> bytes:
    """Read a generated secret, or create it readable by this user only (O_EXCL: when two
    processes start at once, one creates it and the other reads it)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    value = create()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value


def load_or_create_session_key(data_dir: Path) -> bytes:
    return read_or_create_private_file(data_dir / SESSION_KEY_FILE, lambda: secrets.token_bytes(32))
