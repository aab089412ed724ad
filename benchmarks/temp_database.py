"""A throwaway PostgreSQL database for one benchmark run: created, handed over, dropped even on error.

The same create/drop as the test suite's (`tests/conftest.py`), so a benchmark and a test never
disagree on how a database is made or how a killed process's connections are cleared.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import create_postgres_database, drop_postgres_database  # noqa: E402


@contextmanager
def temporary_postgres(base_url: str) -> Iterator[str]:
    """A new database on the server of `base_url`; its SQLAlchemy URL, dropped on exit."""
    url = create_postgres_database(base_url)
    try:
        yield url
    finally:
        drop_postgres_database(base_url, url)
