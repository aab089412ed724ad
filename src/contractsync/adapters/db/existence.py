"""Whether the configured database exists yet, so commands that only read state do not create one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from contractsync.adapters.db.session import normalise_url


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file the URL names when it does not exist; None for an existing file, memory or a server.

    A PostgreSQL database that does not exist already refuses the connection with its own message;
    SQLite would silently create an empty file, which is what this guards against."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
