"""A SQLite database file holds billing data and encrypted credentials: create it readable by
this user only (0600). SQLite gives its -wal and -shm files the database file's permissions."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL


def create_private(url: URL) -> None:
    """Create the (empty) database file 0600 if it does not exist yet; an existing file is left
    as it is, and in-memory databases have no file."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return  # a missing directory is SQLite's error to report, as before
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
